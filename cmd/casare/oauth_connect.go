package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/wire"
)

// browserOpenTimeout bounds the desktop's opener (xdg-open, open), which
// returns as soon as it has handed the URL to a browser.
const browserOpenTimeout = 5 * time.Second

func newSecretOAuthConnectCmd() *cobra.Command {
	var server string
	var req wire.OAuthConnectRequest
	var noBrowser bool
	cmd := &cobra.Command{
		Use:   "oauth-connect NAME",
		Short: "Connect an OAuth account once and keep its refresh token as secret NAME",
		Long: "Start the authorization code flow with PKCE. The command prints the provider's\n" +
			"consent URL (and, on a desktop, opens it). After the person consents, the provider\n" +
			"sends the browser to /oauth/callback on the node --server names, which checks the\n" +
			"state, exchanges the code and stores the refresh token as secret NAME. Later runs\n" +
			"read it with {{ secret(\"NAME\") }} with no person present. The provider must list\n" +
			"the redirect URL printed below (or --redirect-url) for the client.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := newClient(cmd, server).OAuthConnect(cmd.Context(), args[0], req)
			if err != nil {
				return callError("start the OAuth connect flow", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(),
				"Open this URL and consent (until %s); the provider returns to %s:\n%s\n",
				res.ExpiresAt.Local().Format(time.Kitchen), res.RedirectURL, res.ConsentURL)
			if err == nil && !noBrowser {
				openBrowser(cmd.Context(), res.ConsentURL)
			}
			return err
		},
	}
	addServerFlag(cmd, &server)
	f := cmd.Flags()
	f.StringVar(&req.AuthURL, "auth-url", "", "the provider's authorization endpoint")
	f.StringVar(&req.TokenURL, "token-url", "", "the provider's token endpoint")
	f.StringVar(&req.ClientID, "client-id", "", "OAuth client id")
	f.StringVar(&req.ClientSecretFrom, "client-secret-from", "", "secret holding the client secret (leave out for a public client)")
	f.StringSliceVar(&req.Scopes, "scopes", nil, "scopes to ask for, comma separated")
	f.StringVar(&req.RedirectURL, "redirect-url", "", "redirect URL registered at the provider (default: --server's /oauth/callback)")
	f.StringArrayVar(&req.AllowedWorkflows, "allow-workflow", nil, "only this workflow (id or name) may use the secret; repeat for more")
	f.BoolVar(&noBrowser, "no-browser", false, "only print the URL")
	for _, name := range []string{"auth-url", "token-url", "client-id"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// openBrowser hands url to the desktop's browser when there is a desktop;
// a failure changes nothing, since the URL is printed.
func openBrowser(ctx context.Context, url string) {
	var opener string
	switch {
	case runtime.GOOS == "darwin":
		opener = "open"
	case runtime.GOOS == "windows":
		opener = "explorer"
	case os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "":
		opener = "xdg-open"
	default:
		return
	}
	ctx, cancel := context.WithTimeout(ctx, browserOpenTimeout)
	defer cancel()
	_ = exec.CommandContext(ctx, opener, url).Run()
}
