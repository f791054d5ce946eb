package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// TestTheWebAppIsServedBesideTheAPI checks the wiring on a real node:
// every view's URL loads the app, its assets load with their types, and
// the API's paths keep their JSON answers.
func TestTheWebAppIsServedBesideTheAPI(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	for _, path := range []string{"/", "/robots", "/jobs", "/jobs/some-id", "/workflows", "/workflows/wf", "/schedules", "/cluster"} {
		r := get(t, node.URL+path)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "text/html; charset=utf-8" || !strings.Contains(string(r.body), `<div id="root">`) {
			t.Fatalf("GET %s: status %d, type %q, body %.60q; want the app's index.html", path, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	index := string(get(t, node.URL+"/").body)
	for ext, wantType := range map[string]string{"js": "text/javascript", "css": "text/css"} {
		asset := regexp.MustCompile(`"(/assets/[^"]+\.` + ext + `)"`).FindStringSubmatch(index)
		if asset == nil {
			t.Fatalf("index.html links no .%s asset: %s", ext, index)
		}
		r := get(t, node.URL+asset[1])
		if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), wantType) {
			t.Errorf("GET %s: status %d, type %q, want %s", asset[1], r.status, r.header.Get("Content-Type"), wantType)
		}
	}

	for _, path := range []string{"/api/v1/nothing", "/api/v2/jobs", "/api", "/internal/v1/nothing", "/health/nothing", "/metrics/x"} {
		r := get(t, node.URL+path)
		if r.status != http.StatusNotFound || r.apiError(t).Code != string(consensus.CodeNotFound) {
			t.Errorf("GET %s: status %d, body %s; want the API's JSON 404", path, r.status, r.body)
		}
	}
	if r := send(t, http.MethodPost, node.URL+"/jobs", "application/json", []byte("{}")); r.status != http.StatusNotFound {
		t.Errorf("POST /jobs: status %d; only GET and HEAD reach the app", r.status)
	}
	if r := get(t, node.URL+"/health"); r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Errorf("GET /health: status %d, type %q", r.status, r.header.Get("Content-Type"))
	}
}
