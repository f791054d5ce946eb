package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
)

func lastLine(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// TestTokensCreateListRevoke: a viewer token made with the CLI reads but
// may not write, is listed without its secret, and is refused once
// revoked, with a message that says where a token comes from.
func TestTokensCreateListRevoke(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	out := mustRun(t, "tokens", "create", "--role", "viewer", "--name", "grafana", "--ttl", "720h", "--server", node.URL)
	token := lastLine(out)
	if !strings.HasPrefix(token, "casare_token_") || !strings.Contains(out, "role viewer, expires") {
		t.Fatalf("tokens create printed:\n%s", out)
	}
	list := mustRun(t, "tokens", "list", "--server", node.URL)
	if !strings.Contains(list, "grafana") || strings.Contains(list, token[len(token)-16:]) {
		t.Fatalf("tokens list:\n%s", list)
	}
	mustRun(t, "workflows", "--server", node.URL, "--token", token)
	file := writeFile(t, "w.json", helloWorkflow)
	if _, _, err := runCLI(t, "submit", file, "--server", node.URL, "--token", token); err == nil || !strings.Contains(err.Error(), "needs role operator") {
		t.Fatalf("submit with a viewer token: %v", err)
	}
	id := strings.Fields(out)[2]
	mustRun(t, "tokens", "revoke", id, "--server", node.URL)
	_, _, err := runCLI(t, "workflows", "--server", node.URL, "--token", token)
	if err == nil || !strings.Contains(err.Error(), "revoked") || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("workflows with a revoked token: %v", err)
	}
	if _, _, err := runCLI(t, "tokens", "create", "--role", "root", "--name", "x", "--server", node.URL); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("create with a bad role: %v", err)
	}
}

// TestDashboardPrintsAOneTimeLink: the last line is a sign-in link on
// the node, holding a code (not the token) that signs a browser in once.
func TestDashboardPrintsAOneTimeLink(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	link := lastLine(mustRun(t, "dashboard", "--server", node.URL))
	prefix := node.URL + "/signin?code="
	if !strings.HasPrefix(link, prefix) || strings.Contains(link, apitest.AdminToken) {
		t.Fatalf("dashboard link %q, want %s…", link, prefix)
	}
	code := strings.TrimPrefix(link, prefix)
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		resp, err := http.Post(node.URL+"/api/v1/auth/signin", "application/json", strings.NewReader(`{"code":"`+code+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("sign-in %d with the link's code: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

// TestResolveTokenOrder: --token, then CASARE_TOKEN, then --token-file,
// then ./casare-data/admin.token; none at all is no error.
func TestResolveTokenOrder(t *testing.T) {
	t.Chdir(t.TempDir())
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if tok, err := resolveToken("", "", getenv); tok != "" || err != nil {
		t.Fatalf("nothing anywhere: %q, %v", tok, err)
	}
	os.MkdirAll("casare-data", 0o700)
	os.WriteFile(filepath.Join("casare-data", "admin.token"), []byte("from-default\n"), 0o600)
	file := filepath.Join(t.TempDir(), "tok")
	os.WriteFile(file, []byte(" from-file \n"), 0o600)
	for _, tc := range []struct{ flag, file, env, want string }{
		{"", "", "", "from-default"},
		{"", file, "", "from-file"},
		{"", file, "from-env", "from-env"},
		{"from-flag", file, "from-env", "from-flag"},
	} {
		env["CASARE_TOKEN"] = tc.env
		if got, err := resolveToken(tc.flag, tc.file, getenv); got != tc.want || err != nil {
			t.Errorf("%+v: %q, %v", tc, got, err)
		}
	}
	env["CASARE_TOKEN"] = ""
	if _, err := resolveToken("", filepath.Join(t.TempDir(), "missing"), getenv); err == nil {
		t.Error("a missing --token-file is not an error")
	}
}
