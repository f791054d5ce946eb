package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
)

func newRobotsCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "robots",
		Short: "List the robots of the cluster and the jobs they run",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(cmd, flags.server).Robots(cmd.Context())
			if err != nil {
				return callError("list robots", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			return printRobots(cmd.OutOrStdout(), list.Robots)
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func printRobots(w io.Writer, robots []api.Robot) error {
	tw := newTable(w)
	row(tw, "ID", "KIND", "STATE", "NODE", "CAPACITY", "JOBS", "TAGS", "SINCE")
	for _, r := range robots {
		row(tw, r.ID, r.Kind, r.State, orDash(r.Node), r.Capacity, orDash(strings.Join(r.CurrentJobs, ",")),
			orDash(strings.Join(r.Tags, ",")), formatTime(r.Since))
	}
	return tw.Flush()
}

// newRobotCmd is the parent of the commands about one robot: its tokens
// here, and the children other files make (such as connect).
func newRobotCmd(children ...*cobra.Command) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "robot",
		Short: "Manage robot tokens and run robots",
	}
	cmd.AddCommand(newRobotTokenCmd())
	cmd.AddCommand(children...)
	return cmd
}

func newRobotTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "token",
		Aliases: []string{"tokens"},
		Short:   "Create, list and revoke the tokens internet robots connect with",
	}
	cmd.AddCommand(newRobotTokenCreateCmd(), newRobotTokenListCmd(), newRobotTokenRevokeCmd())
	return cmd
}

func newRobotTokenCreateCmd() *cobra.Command {
	var server string
	var req api.CreateRobotTokenRequest
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a robot token; it is printed once, alone on the last line",
		Long: "Create a robot token. The cluster keeps only a hash of it, so it is printed\n" +
			"only now: alone on the last line of the output, for scripts to take with\n" +
			"`tail -n 1`. A token may fix the robot's name, tags and capacity (a robot\n" +
			"using it gets them whatever it asks for) and may expire (--ttl).",
		Example: "  casare robot token create --name laptop-1 --tags sap,eu --capacity 2 --ttl 720h | tail -n 1 > laptop-1.token",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ttl < 0 {
				return fmt.Errorf("--ttl must not be negative, not %s", ttl)
			}
			if ttl > 0 {
				req.TTL = ttl.String()
			}
			token, err := newClient(cmd, server).CreateRobotTokenFor(cmd.Context(), req)
			if err != nil {
				return callError("create robot token", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(),
				"Robot token %s for %s. Keep it now; it cannot be shown again:\n%s\n", token.ID, tokenScope(token), token.Token)
			return err
		},
	}
	addServerFlag(cmd, &server)
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "robot name the token fixes (default: any robot, under the --name it connects with)")
	f.StringSliceVar(&req.Tags, "tags", nil, "robot tags the token fixes, comma separated (default: the robot's own --tags)")
	f.IntVar(&req.Capacity, "capacity", 0, "jobs at once the token fixes (default: the robot's own --capacity)")
	f.DurationVar(&ttl, "ttl", 0, "the token expires this long from now, such as 720h (default: never)")
	return cmd
}

// tokenScope says in words what a new token fixes.
func tokenScope(t api.CreatedRobotToken) string {
	parts := []string{"any robot"}
	if t.Name != "" {
		parts[0] = "robot " + t.Name
	}
	if len(t.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(t.Tags, ","))
	}
	if t.Capacity > 0 {
		parts = append(parts, fmt.Sprintf("capacity %d", t.Capacity))
	}
	if !t.ExpiresAt.IsZero() {
		parts = append(parts, "expires "+formatTime(t.ExpiresAt))
	}
	return strings.Join(parts, ", ")
}

func newRobotTokenListCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List robot tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(cmd, flags.server).RobotTokens(cmd.Context())
			if err != nil {
				return callError("list robot tokens", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "ID", "ROBOT", "TAGS", "CAPACITY", "CREATED", "EXPIRES", "REVOKED")
			for _, t := range list.Tokens {
				row(tw, t.ID, orDash(t.Name), orDash(strings.Join(t.Tags, ",")), orDash(capacityText(t.Capacity)),
					formatTime(t.CreatedAt), orDash(expiryText(t.ExpiresAt)), mark(t.Revoked))
			}
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func capacityText(c int) string {
	if c <= 0 {
		return ""
	}
	return fmt.Sprint(c)
}

func expiryText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func newRobotTokenRevokeCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a robot token; robots using it are disconnected at once and refused from then on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := newClient(cmd, server).RevokeRobotToken(cmd.Context(), args[0]); err != nil {
				return callError("revoke robot token", server, err)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "revoked robot token %s\n", args[0])
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}
