package main

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/client"
)

// defaultServer is the API of a one-machine install.
const defaultServer = "http://127.0.0.1:8080"

// addServerFlag gives a command that talks to a cluster its --server
// flag, defaulting to $CASARE_SERVER, and the flags of its credential,
// which a pre-run hook resolves (see resolveToken) before the command
// runs.
func addServerFlag(cmd *cobra.Command, server *string) {
	def := cmp.Or(os.Getenv("CASARE_SERVER"), defaultServer)
	cmd.Flags().StringVar(server, "server", def, "URL of any node's API (default from $CASARE_SERVER)")
	cmd.Flags().String("token", "", "API token (default: $CASARE_TOKEN, then --token-file, then ./"+defaultTokenFile+")")
	cmd.Flags().String("token-file", "", "file holding the API token (e.g. a node's <data-dir>/admin.token)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		flag, _ := cmd.Flags().GetString("token")
		file, _ := cmd.Flags().GetString("token-file")
		token, err := resolveToken(flag, file, os.Getenv)
		if err != nil {
			return err
		}
		return cmd.Flags().Set("token", token)
	}
}

// newClient returns a client of the API at server, with the credential
// addServerFlag's hook resolved.
func newClient(cmd *cobra.Command, server string) *client.Client {
	token, _ := cmd.Flags().GetString("token")
	if token == "" {
		return client.New(server)
	}
	return client.New(server, client.WithToken(token))
}

// clientFlags are the flags of every command that reads from a cluster.
type clientFlags struct {
	server string
	output string
}

// addClientFlags registers --server and --output on cmd.
func addClientFlags(cmd *cobra.Command) *clientFlags {
	f := &clientFlags{}
	addServerFlag(cmd, &f.server)
	cmd.Flags().StringVarP(&f.output, "output", "o", "table", "output format: table or json")
	return f
}

// check validates the flags before any request is made.
func (f *clientFlags) check() error {
	if f.output != "table" && f.output != "json" {
		return fmt.Errorf("--output %q: want table or json", f.output)
	}
	return nil
}

func (f *clientFlags) json() bool { return f.output == "json" }

// callError says what failed in terms a user can act on: the API's own
// message when the cluster answered, or which server was unreachable.
func callError(action, server string, err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Code == "unauthenticated" {
		return fmt.Errorf("%s: %s\ngive an API token with --token, $CASARE_TOKEN or --token-file; on the first node's machine the CLI reads ./%s", action, ae.Error(), defaultTokenFile)
	}
	if errors.As(err, &ae) {
		return fmt.Errorf("%s: %s", action, ae.Error())
	}
	return fmt.Errorf("%s: cannot reach the Casare API at %s (set --server or CASARE_SERVER): %w", action, server, err)
}

// printJSON writes v as indented JSON, with the characters escapeCell
// would escape written as \u escapes, which encoding/json leaves raw
// for DEL, C1 controls and bidirectional formatting characters.
func printJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := io.WriteString(w, escapeJSON(buf.String()))
	return err
}

// newTable returns a tabwriter for aligned columns; call Flush at the end.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// row writes one tab-separated table row, each cell escaped.
func row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = escapeCell(fmt.Sprint(c))
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

// formatTime renders a timestamp for tables; the zero time is "-".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// orDash renders an empty cell as "-".
func orDash(s string) string { return cmp.Or(s, "-") }

// mark renders a boolean column.
func mark(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
