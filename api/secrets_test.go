package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

// TestSecretBadInputIsRefusedAndChangesNothing sends the vault requests a
// user gets wrong: each is a 400 or 404 naming the problem, and no
// secret appears.
func TestSecretBadInputIsRefusedAndChangesNothing(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	cases := []struct {
		name, method, path, body string
		status                   int
		want                     string
	}{
		{"no value", "PUT", "/api/v1/secrets/A", `{}`, 400, "value"},
		{"empty value", "PUT", "/api/v1/secrets/A", `{"value":""}`, 400, "value"},
		{"bad name", "PUT", "/api/v1/secrets/1bad$name", `{"value":"x"}`, 400, "secret name"},
		{"unknown field", "PUT", "/api/v1/secrets/A", `{"value":"x","values":"y"}`, 400, "values"},
		{"value not a string", "PUT", "/api/v1/secrets/A", `{"value":42}`, 400, "value"},
		{"empty workflow", "PUT", "/api/v1/secrets/A", `{"value":"x","allowed_workflows":[""]}`, 400, "allowed_workflows"},
		{"too large", "PUT", "/api/v1/secrets/A", `{"value":"` + strings.Repeat("x", 64<<10+1) + `"}`, 400, "65536"},
		{"get missing", "GET", "/api/v1/secrets/NOPE", ``, 404, "NOPE"},
		{"delete missing", "DELETE", "/api/v1/secrets/NOPE", ``, 404, "NOPE"},
	}
	for _, tc := range cases {
		resp := send(t, tc.method, node.URL+tc.path, "application/json", []byte(tc.body))
		if resp.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, resp.status, tc.status, resp.body)
			continue
		}
		if e := resp.apiError(t); !strings.Contains(e.Message, tc.want) {
			t.Errorf("%s: message %q does not name %q", tc.name, e.Message, tc.want)
		}
	}
	var list api.SecretList
	send(t, http.MethodGet, node.URL+"/api/v1/secrets", "", nil).decode(t, &list)
	if len(list.Secrets) != 0 {
		t.Fatalf("bad requests left secrets: %+v", list.Secrets)
	}
}

// TestSecretSetListDeleteShowsNoValue sets a secret twice and deletes it:
// versions count up, metadata comes back, the value never does.
func TestSecretSetListDeleteShowsNoValue(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	const value = "very-secret-value-77"
	first := send(t, "PUT", node.URL+"/api/v1/secrets/DB_PASS", "application/json", []byte(`{"value":"`+value+`","allowed_workflows":["etl"]}`))
	second := send(t, "PUT", node.URL+"/api/v1/secrets/DB_PASS", "application/json", []byte(`{"value":"`+value+`2"}`))
	if first.status != http.StatusCreated || second.status != http.StatusOK {
		t.Fatalf("set: %d %s, then %d %s", first.status, first.body, second.status, second.body)
	}
	var s api.Secret
	second.decode(t, &s)
	if s.Version != 2 || len(s.AllowedWorkflows) != 0 || s.UpdatedBy == "" {
		t.Fatalf("second set answered %+v", s)
	}
	list := send(t, "GET", node.URL+"/api/v1/secrets", "", nil)
	one := send(t, "GET", node.URL+"/api/v1/secrets/DB_PASS", "", nil)
	for _, r := range []response{first, second, list, one} {
		if strings.Contains(string(r.body), value) {
			t.Fatalf("an answer holds the value: %s", r.body)
		}
	}
	if del := send(t, "DELETE", node.URL+"/api/v1/secrets/DB_PASS", "", nil); del.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.status, del.body)
	}
	if got := send(t, "GET", node.URL+"/api/v1/secrets/DB_PASS", "", nil); got.status != http.StatusNotFound {
		t.Fatalf("after delete: %d %s", got.status, got.body)
	}
}
