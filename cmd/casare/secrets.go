package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/wire"
)

func newSecretsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "secrets",
		Aliases: []string{"secret"},
		Short:   "Manage the credential vault: set, list and delete secrets, rotate the vault key",
		Long: "Secrets are values workflows read with {{ secret(\"NAME\") }}. The cluster keeps\n" +
			"them encrypted in Raft, hands a value only to the robot running a job whose\n" +
			"workflow references it, and never shows a value back: list and the API return\n" +
			"metadata only, and runs print *** in place of a value.",
	}
	cmd.AddCommand(newSecretSetCmd(), newSecretListCmd(), newSecretDeleteCmd(), newSecretRotateCmd(), newSecretOAuthConnectCmd())
	return cmd
}

// maxSecretInput bounds what set reads: the vault's limit plus one byte,
// so a larger value is refused rather than cut.
const maxSecretInput = 64<<10 + 1

func newSecretSetCmd() *cobra.Command {
	var server, fromFile string
	var allow []string
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Set a secret's value, read from stdin or --from-file (never from a flag)",
		Long: "Set a secret's value. The value is read from standard input (one trailing\n" +
			"newline is dropped, so `echo pw | casare secrets set NAME` works) or, whole, from\n" +
			"--from-file. It is never taken from a flag, which would land in shell history.\n" +
			"--allow-workflow (repeatable; workflow id or name) limits which workflows may use\n" +
			"it; without it any workflow may. Setting an existing secret makes a new version\n" +
			"and replaces its allowed workflows.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			value, err := readSecretValue(cmd.InOrStdin(), fromFile)
			if err != nil {
				return err
			}
			s, err := newClient(cmd, server).SetSecret(cmd.Context(), args[0], wire.PutSecretRequest{Value: value, AllowedWorkflows: allow})
			if err != nil {
				return callError("set secret "+args[0], server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "secret %s set (version %d, %s)\n", s.Name, s.Version, allowedText(s.AllowedWorkflows))
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&fromFile, "from-file", "", "read the value from this file, as is")
	cmd.Flags().StringArrayVar(&allow, "allow-workflow", nil, "only this workflow (id or name) may use the secret; repeat for more")
	return cmd
}

func readSecretValue(stdin io.Reader, fromFile string) (string, error) {
	var data []byte
	var err error
	if fromFile != "" {
		data, err = os.ReadFile(fromFile)
		if err != nil {
			return "", fmt.Errorf("read the secret from %s: %w", fromFile, err)
		}
	} else {
		data, err = io.ReadAll(io.LimitReader(stdin, maxSecretInput))
		if err != nil {
			return "", fmt.Errorf("read the secret from stdin: %w", err)
		}
		data = bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r"))
	}
	if len(data) == 0 {
		return "", errors.New("the secret is empty: pipe it on stdin or name a file with --from-file")
	}
	if len(data) >= maxSecretInput {
		return "", fmt.Errorf("the secret is larger than %d bytes", maxSecretInput-1)
	}
	return string(data), nil
}

func allowedText(allowed []string) string {
	if len(allowed) == 0 {
		return "any workflow may use it"
	}
	return "only workflows " + strings.Join(allowed, ", ")
}

func newSecretListCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List secrets: names, versions, who may use them, when changed (never values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(cmd, flags.server).Secrets(cmd.Context())
			if err != nil {
				return callError("list secrets", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "NAME", "VERSION", "WORKFLOWS", "UPDATED", "BY")
			for _, s := range list.Secrets {
				row(tw, s.Name, s.Version, orDash(strings.Join(s.AllowedWorkflows, ",")), formatTime(s.UpdatedAt), orDash(s.UpdatedBy))
			}
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func newSecretDeleteCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a secret; jobs whose workflow needs it fail from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient(cmd, server).DeleteSecret(cmd.Context(), args[0]); err != nil {
				return callError("delete secret "+args[0], server, err)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted secret %s\n", args[0])
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}

func newSecretRotateCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "rotate-key",
		Short: "Re-encrypt every secret under a new vault key and retire the old key",
		Long: "Make a new vault key, hand it to every server, re-encrypt every secret under\n" +
			"it in one Raft entry, then retire the old key on every server. It refuses to\n" +
			"start unless every server is reachable. Jobs keep running meanwhile.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := newClient(cmd, server).RotateVaultKey(cmd.Context())
			if err != nil {
				return callError("rotate the vault key", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "vault key rotated: %d secrets re-encrypted\n", res.Rotated)
			if err == nil && len(res.Stale) > 0 {
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "changed during the rotation, run it again: %s\n", strings.Join(res.Stale, ", "))
			}
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}
