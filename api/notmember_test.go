package api_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

// TestNotMemberServesNoData: while the node says it is outside the Raft
// configuration, every data endpoint answers 503 not_member with
// Retry-After, readiness is false, and the cluster view stays available
// so an operator can see why; once it is a member again, data is served.
func TestNotMemberServesNoData(t *testing.T) {
	t.Parallel()
	var outside atomic.Bool
	n := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.NotMember = outside.Load
	}})
	n.WaitLeaderKnown(t, 10*time.Second)
	outside.Store(true)

	for _, path := range []string{"/api/v1/jobs", "/api/v1/workflows", "/api/v1/robots", "/api/v1/queue"} {
		r := get(t, n.URL+path)
		if r.status != http.StatusServiceUnavailable || r.apiError(t).Code != "not_member" || r.header.Get("Retry-After") == "" {
			t.Errorf("GET %s outside the configuration: %d %s Retry-After %q, want 503 not_member with Retry-After",
				path, r.status, r.body, r.header.Get("Retry-After"))
		}
	}
	if r := postJSON(t, n.URL+"/api/v1/jobs", `{"workflow_id":"w"}`); r.status != http.StatusServiceUnavailable || r.apiError(t).Code != "not_member" {
		t.Errorf("POST /api/v1/jobs outside the configuration: %d %s, want 503 not_member", r.status, r.body)
	}
	r := get(t, n.URL+"/health/ready")
	var h api.Health
	r.decode(t, &h)
	if r.status != http.StatusServiceUnavailable || h.Ready || !h.NotMember {
		t.Errorf("/health/ready outside the configuration: %d %s, want 503, not ready, not_member", r.status, r.body)
	}
	r = get(t, n.URL+"/api/v1/cluster")
	var cl api.Cluster
	r.decode(t, &cl)
	if r.status != http.StatusOK || !cl.NotMember {
		t.Errorf("/api/v1/cluster outside the configuration: %d %s, want 200 saying not_member", r.status, r.body)
	}

	outside.Store(false)
	if r := get(t, n.URL+"/api/v1/jobs"); r.status != http.StatusOK {
		t.Errorf("GET /api/v1/jobs as a member again: %d %s, want 200", r.status, r.body)
	}
	if r := get(t, n.URL+"/health/ready"); r.status != http.StatusOK {
		t.Errorf("/health/ready as a member again: %d %s, want 200", r.status, r.body)
	}
}

// TestStartingNodeIsNotReady: a node that has a leader but has not
// finished starting (a new cluster storing its admin token) answers
// /health/ready 503 with starting set, and 200 once it has started.
func TestStartingNodeIsNotReady(t *testing.T) {
	t.Parallel()
	var starting atomic.Bool
	starting.Store(true)
	n := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.Starting = starting.Load
	}})
	n.WaitLeaderKnown(t, 10*time.Second)

	r := get(t, n.URL+"/health/ready")
	var h api.Health
	r.decode(t, &h)
	if r.status != http.StatusServiceUnavailable || h.Ready || !h.Starting {
		t.Errorf("/health/ready while starting: %d %s, want 503, not ready, starting", r.status, r.body)
	}
	starting.Store(false)
	if r := get(t, n.URL+"/health/ready"); r.status != http.StatusOK {
		t.Errorf("/health/ready once started: %d %s, want 200", r.status, r.body)
	}
}
