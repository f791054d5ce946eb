package main

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
)

// TestSecretsCommands sets a secret from stdin and from a file, lists
// and deletes it; the value is never printed and there is no flag that
// takes it.
func TestSecretsCommands(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	t.Setenv("CASARE_TOKEN", apitest.AdminToken)
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader("from-stdin-value\n"))
	root.SetArgs([]string{"secrets", "set", "CRM", "--allow-workflow", "crm-sync", "--server", node.URL})
	if err := root.ExecuteContext(t.Context()); err != nil {
		t.Fatalf("secrets set: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "secret CRM set (version 1, only workflows crm-sync)") {
		t.Fatalf("set printed %q", out.String())
	}
	file := writeFile(t, "pw.txt", "from-file-value\n")
	mustRun(t, "secrets", "set", "CRM", "--from-file", file, "--server", node.URL)
	list := mustRun(t, "secrets", "list", "--server", node.URL)
	if !strings.Contains(list, "CRM") || strings.Contains(list, "value") {
		t.Fatalf("list printed:\n%s", list)
	}
	if _, _, err := runCLI(t, "secrets", "set", "CRM", "--value", "x", "--server", node.URL); err == nil ||
		!strings.Contains(err.Error(), "unknown flag: --value") {
		t.Fatalf("a --value flag was accepted: %v", err)
	}
	empty := newRootCmd()
	empty.SetOut(&out)
	empty.SetErr(&errOut)
	empty.SetIn(strings.NewReader(""))
	empty.SetArgs([]string{"secrets", "set", "EMPTY", "--server", node.URL})
	if err := empty.ExecuteContext(t.Context()); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("an empty stdin was accepted: %v", err)
	}
	mustRun(t, "secrets", "delete", "CRM", "--server", node.URL)
	if _, _, err := runCLI(t, "secrets", "delete", "CRM", "--server", node.URL); err == nil || !strings.Contains(err.Error(), `secret "CRM" not found`) {
		t.Fatalf("second delete: %v", err)
	}
}

// TestSecretsOAuthConnectPrintsTheConsentURL checks the printed URL asks
// for a code with a PKCE challenge, a state and the node's callback.
func TestSecretsOAuthConnectPrintsTheConsentURL(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	out := mustRun(t, "secrets", "oauth-connect", "CRM_REFRESH", "--no-browser", "--server", node.URL,
		"--auth-url", "https://id.example.com/authorize", "--token-url", "https://id.example.com/token",
		"--client-id", "casare", "--scopes", "read,offline")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	consent := lines[len(lines)-1]
	for _, want := range []string{"https://id.example.com/authorize?", "code_challenge_method=S256", "code_challenge=", "state=",
		"client_id=casare", "redirect_uri=" + url.QueryEscape(node.URL+"/oauth/callback"), "scope=read+offline"} {
		if !strings.Contains(consent, want) {
			t.Errorf("consent URL %q lacks %q", consent, want)
		}
	}
	if _, _, err := runCLI(t, "secrets", "oauth-connect", "X", "--server", node.URL, "--auth-url", "ftp://x", "--token-url", "https://x/t", "--client-id", "c", "--no-browser"); err == nil ||
		!strings.Contains(err.Error(), "auth_url") {
		t.Fatalf("a bad auth URL was accepted: %v", err)
	}
}
