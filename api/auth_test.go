package api_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// publicRoutes are the API routes a request needs no credential for.
var publicRoutes = map[string]bool{
	"GET /health":               true,
	"GET /health/ready":         true,
	"POST /api/v1/auth/signin":  true,
	"POST /api/v1/auth/signout": true,
	// The OAuth provider's redirect: a browser arrives with the flow's
	// state, which the handler checks.
	"GET /oauth/callback": true,
}

// expectedRole is the policy, written out apart from the server's table:
// credentials and changes to the cluster are admin business, reads are
// for viewers (and so are asking for one's own sign-in code and
// validating a workflow, which stores nothing), every other write is an
// operator's.
func expectedRole(method, path string) consensus.Role {
	switch {
	case strings.HasPrefix(path, "/api/v1/tokens") || strings.HasPrefix(path, "/api/v1/robots/tokens") || strings.HasPrefix(path, "/api/v1/operator/"):
		return consensus.RoleAdmin
	case strings.HasPrefix(path, "/api/v1/cluster/") && method != http.MethodGet:
		return consensus.RoleAdmin
	case method != http.MethodGet && (strings.HasPrefix(path, "/api/v1/robots/") || strings.HasPrefix(path, "/api/v1/secrets")):
		return consensus.RoleAdmin
	case method == http.MethodGet || path == "/api/v1/auth/codes" || path == "/api/v1/workflows/validate":
		return consensus.RoleViewer
	}
	return consensus.RoleOperator
}

// guardedRoutes lists every public-listener route from gin's route list
// (internal ones move to the cluster listener), with ids filled in.
func guardedRoutes(t *testing.T) []api.Route {
	t.Helper()
	param := regexp.MustCompile(`:[a-z_]+`)
	var out []api.Route
	for _, r := range api.New(api.Config{}).Endpoints() {
		if strings.HasPrefix(r.Path, "/internal/") || publicRoutes[r.Method+" "+r.Path] {
			continue
		}
		out = append(out, api.Route{Method: r.Method, Path: param.ReplaceAllString(r.Path, "no-such-id")})
	}
	if len(out) < 30 {
		t.Fatalf("only %d routes found: the route list is not what it seems", len(out))
	}
	return out
}

// TestEveryRouteNeedsACredential: without a credential, with a malformed
// one, or with one the cluster does not know, every route answers 401
// with a JSON error that says which.
func TestEveryRouteNeedsACredential(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	for _, r := range guardedRoutes(t) {
		for _, tc := range []struct{ auth, says string }{
			{"", "no credential"},
			{"Basic YWRtaW46YWRtaW4=", "not \"Bearer <token>\""},
			{"Bearer nonsense", "not a Casare API token"},
			{"Bearer casare_token_forged_c2VjcmV0", "unknown API token"},
			{"Bearer " + apitest.AdminToken + "x", "unknown API token"},
		} {
			resp := send(t, r.Method, n.URL+r.Path, "application/json", []byte("{}"), "Authorization", tc.auth)
			if resp.status != http.StatusUnauthorized {
				t.Fatalf("%s %s with %q: status %d %s, want 401", r.Method, r.Path, tc.auth, resp.status, resp.body)
			}
			if e := resp.apiError(t); e.Code != "unauthenticated" || !strings.Contains(e.Message, tc.says) {
				t.Fatalf("%s %s with %q: %+v, want unauthenticated saying %q", r.Method, r.Path, tc.auth, e, tc.says)
			}
		}
	}
}

// TestRoleMatrix sends every route with a token of each role: a role the
// policy allows gets past the guard (any answer but 401 or 403), any
// other gets 403 forbidden naming the role needed.
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	tokens := map[consensus.Role]string{}
	for _, role := range consensus.Roles {
		tokens[role] = n.NewToken(t, "matrix-"+string(role), role)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-46s %-8s %-8s %-8s\n", "route", "viewer", "operator", "admin")
	for _, r := range guardedRoutes(t) {
		fmt.Fprintf(&table, "%-46s", r.Method+" "+r.Path)
		need := expectedRole(r.Method, r.Path)
		for _, role := range consensus.Roles {
			resp := send(t, r.Method, n.URL+r.Path, "application/json", []byte("{}"), "Authorization", "Bearer "+tokens[role])
			allowed := role.Allows(need)
			switch {
			case resp.status == http.StatusUnauthorized:
				t.Fatalf("%s %s as %s: 401 %s", r.Method, r.Path, role, resp.body)
			case allowed && resp.status == http.StatusForbidden:
				t.Fatalf("%s %s as %s: 403, but the role may (needs %s): %s", r.Method, r.Path, role, need, resp.body)
			case !allowed && resp.status != http.StatusForbidden:
				t.Fatalf("%s %s as %s: %d, want 403 (needs %s): %s", r.Method, r.Path, role, resp.status, need, resp.body)
			case !allowed && !strings.Contains(resp.apiError(t).Message, "needs role "+string(need)):
				t.Fatalf("%s %s as %s: 403 does not name the role needed: %s", r.Method, r.Path, role, resp.body)
			}
			fmt.Fprintf(&table, " %-8s", map[bool]string{true: "allowed", false: "403"}[allowed])
		}
		table.WriteString("\n")
	}
	t.Logf("role matrix:\n%s", table.String())
}

// TestOpenRoutesNeedNoCredential: health and the web app's pages answer
// without one, and /signin is the web app's page.
func TestOpenRoutesNeedNoCredential(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	for _, path := range []string{"/health", "/health/ready", "/", "/signin", "/jobs/123", "/designer", "/designer/some-workflow"} {
		resp := send(t, http.MethodGet, n.URL+path, "", nil, "Authorization", "")
		if resp.status != http.StatusOK {
			t.Errorf("GET %s without a credential: %d %s", path, resp.status, resp.body)
		}
	}
	if resp := send(t, http.MethodGet, n.URL+"/signin?code=x", "", nil, "Authorization", ""); !strings.Contains(string(resp.body), "<html") {
		t.Errorf("GET /signin is not the web app: %d %.200s", resp.status, resp.body)
	}
}

// TestMetricsNeedAViewerUnlessPublic: /metrics answers 401 without a
// token, 200 with a viewer's, and 200 to anyone on a node started with
// MetricsPublic.
func TestMetricsNeedAViewerUnlessPublic(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	if resp := send(t, http.MethodGet, n.URL+"/metrics", "", nil, "Authorization", ""); resp.status != http.StatusUnauthorized {
		t.Fatalf("metrics without a token: %d", resp.status)
	}
	viewer := n.NewToken(t, "grafana", consensus.RoleViewer)
	if resp := send(t, http.MethodGet, n.URL+"/metrics", "", nil, "Authorization", "Bearer "+viewer); resp.status != http.StatusOK {
		t.Fatalf("metrics with a viewer token: %d %s", resp.status, resp.body)
	}
	public := apitest.Start(t, apitest.Config{Name: "p1", Bootstrap: true, API: func(c *api.Config) { c.MetricsPublic = true }})
	if resp := send(t, http.MethodGet, public.URL+"/metrics", "", nil, "Authorization", ""); resp.status != http.StatusOK {
		t.Fatalf("public metrics without a token: %d", resp.status)
	}
}

// TestCORSIsOffUnlessAnOriginIsGiven: by default no cross-origin header
// is ever sent; with CORSOrigin, only that origin gets them and its
// preflight is answered.
func TestCORSIsOffUnlessAnOriginIsGiven(t *testing.T) {
	t.Parallel()
	closed := apitest.StartLeader(t, "n1")
	resp := send(t, http.MethodGet, closed.URL+"/api/v1/jobs", "", nil, "Origin", "https://evil.example")
	if got := resp.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("CORS header %q sent with no origin configured", got)
	}
	open := apitest.Start(t, apitest.Config{Name: "c1", Bootstrap: true, API: func(c *api.Config) { c.CORSOrigin = "https://ops.example" }})
	pre := send(t, http.MethodOptions, open.URL+"/api/v1/jobs", "", nil,
		"Origin", "https://ops.example", "Access-Control-Request-Method", "POST", "Authorization", "")
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != "https://ops.example" ||
		!strings.Contains(pre.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight from the allowed origin: %d %v", pre.status, pre.header)
	}
	other := send(t, http.MethodGet, open.URL+"/api/v1/jobs", "", nil, "Origin", "https://evil.example")
	if got := other.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("CORS header %q sent to another origin", got)
	}
}
