package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/wire"
)

func newTokensCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "tokens",
		Aliases: []string{"token"},
		Short:   "Create, list and revoke API tokens (roles: admin, operator, viewer)",
		Long: "API tokens authenticate every call to the REST API and sign browsers in.\n" +
			"Roles: admin may do everything; operator runs workflows, jobs, schedules\n" +
			"and the queue; viewer only reads. Robots use robot tokens instead\n" +
			"(casare robot token).",
	}
	cmd.AddCommand(newTokensCreateCmd(), newTokensListCmd(), newTokensRevokeCmd())
	return cmd
}

func newTokensCreateCmd() *cobra.Command {
	var server string
	var req wire.CreateTokenRequest
	cmd := &cobra.Command{
		Use:   "create --role ROLE --name NAME [--ttl 720h]",
		Short: "Create an API token; it is printed once, alone on the last line",
		Long: "Create an API token. The cluster keeps only a hash of it, so it is printed\n" +
			"only now: alone on the last line of the output, for scripts to take with\n" +
			"`tail -n 1`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			token, err := newClient(cmd, server).CreateAPIToken(cmd.Context(), req)
			if err != nil {
				return callError("create API token", server, err)
			}
			expiry := "does not expire"
			if !token.ExpiresAt.IsZero() {
				expiry = "expires " + formatTime(token.ExpiresAt)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "API token %s for %s, role %s, %s. Keep it now; it cannot be shown again:\n%s\n",
				token.ID, escapeCell(token.Name), token.Role, expiry, token.Token)
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&req.Name, "name", "", "who uses the token, e.g. grafana (required)")
	cmd.Flags().StringVar(&req.Role, "role", "", "admin, operator or viewer (required)")
	cmd.Flags().StringVar(&req.TTL, "ttl", "", "lifetime, e.g. 720h (default: no expiry)")
	cmd.MarkFlagRequired("name")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newTokensListCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List API tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(cmd, flags.server).APITokens(cmd.Context())
			if err != nil {
				return callError("list API tokens", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "ID", "NAME", "ROLE", "CREATED", "EXPIRES", "REVOKED")
			for _, t := range list.Tokens {
				row(tw, t.ID, t.Name, t.Role, formatTime(t.CreatedAt), formatTime(t.ExpiresAt), mark(t.Revoked))
			}
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func newTokensRevokeCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token and the browser sessions signed in with it, on every node",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := newClient(cmd, server).RevokeAPIToken(cmd.Context(), args[0]); err != nil {
				return callError("revoke API token", server, err)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "revoked API token %s\n", escapeCell(args[0]))
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}

func newDashboardCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "dashboard",
		Short: "Print a one-time link that signs a browser in to the dashboard",
		Long: "Print a link to the web dashboard of the node at --server that signs a\n" +
			"browser in with this CLI's name and role. The link holds a one-time code,\n" +
			"never the token: it works once, within 5 minutes. It is the last line of\n" +
			"the output.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := newClient(cmd, server)
			base, err := c.BaseURL()
			if err != nil {
				return err
			}
			code, err := c.CreateSignInCode(cmd.Context())
			if err != nil {
				return callError("make a sign-in code", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Open this link within 5 minutes (it works once):\n%s%s\n", base.String(), code.Path)
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}
