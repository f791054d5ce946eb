package api_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// counted turns a series' per-second rates back into counts: every
// interval lasts interval_seconds but the newest, which has run from its
// start to now (at least a second).
func counted(tp api.Throughput, rate func(api.ThroughputInterval) float64) int {
	total := 0.0
	for i, p := range tp.Points {
		secs := float64(tp.IntervalSeconds)
		if i == len(tp.Points)-1 {
			secs = max(1, tp.Now.Sub(p.Start).Seconds())
		}
		total += rate(p) * secs
	}
	return int(math.Round(total))
}

// GET /api/v1/stats/throughput counts what the replica applied: jobs
// submitted, claimed, succeeded, failed and cancelled, and the claim
// latency of the intervals with claims.
func TestThroughputCountsAppliedJobs(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := createWorkflow(t, node)
	submitN(t, node, wf, "tp", 4)
	claimed, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 3})
	if err != nil || len(claimed) != 3 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	done := consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{
		{JobID: claimed[0].Job.ID, Token: claimed[0].Job.Lease.Token, Succeeded: true},
		{JobID: claimed[1].Job.ID, Token: claimed[1].Job.Lease.Token, Succeeded: true},
		{JobID: claimed[2].Job.ID, Token: claimed[2].Job.Lease.Token, Error: "bad invoice", FailureKind: consensus.FailureBusiness},
	}}
	if _, err := node.Store.Complete(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Store.CancelJob(t.Context(), "tp-003", ""); err != nil {
		t.Fatal(err)
	}

	r := get(t, node.URL+"/api/v1/stats/throughput?window=2m")
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var tp api.Throughput
	r.decode(t, &tp)
	if tp.Node != "n1" || tp.IntervalSeconds != 10 || tp.WindowSeconds != 120 || len(tp.Points) != 12 {
		t.Fatalf("node %q, interval %d s, window %d s, %d points; want n1, 10 s, 120 s, 12 points",
			tp.Node, tp.IntervalSeconds, tp.WindowSeconds, len(tp.Points))
	}
	for what, got := range map[string]int{
		"submitted": counted(tp, func(p api.ThroughputInterval) float64 { return p.Submitted }) - 4,
		"claimed":   counted(tp, func(p api.ThroughputInterval) float64 { return p.Claimed }) - 3,
		"succeeded": counted(tp, func(p api.ThroughputInterval) float64 { return p.Succeeded }) - 2,
		"failed":    counted(tp, func(p api.ThroughputInterval) float64 { return p.Failed }) - 1,
		"cancelled": counted(tp, func(p api.ThroughputInterval) float64 { return p.Cancelled }) - 1,
	} {
		if got != 0 {
			t.Errorf("%s: off by %d; series %+v", what, got, tp.Points)
		}
	}
	withClaims := 0
	for _, p := range tp.Points {
		if p.Claimed > 0 {
			withClaims++
			if p.ClaimP50 == nil || p.ClaimP95 == nil || *p.ClaimP50 > *p.ClaimP95 || *p.ClaimP95 > 60 {
				t.Errorf("interval %s with claims: p50 %v, p95 %v", p.Start, p.ClaimP50, p.ClaimP95)
			}
		} else if p.ClaimP50 != nil {
			t.Errorf("interval %s without claims has a p50 of %v", p.Start, *p.ClaimP50)
		}
	}
	if withClaims == 0 {
		t.Error("no interval holds the claims")
	}
	if full := get(t, node.URL+"/api/v1/stats/throughput"); full.status != http.StatusOK {
		t.Errorf("default window: status %d", full.status)
	} else {
		var def api.Throughput
		full.decode(t, &def)
		if def.WindowSeconds != 900 || len(def.Points) != 90 {
			t.Errorf("default window: %d s, %d points; want 900 s, 90", def.WindowSeconds, len(def.Points))
		}
	}
}

func TestThroughputRefusesBadWindows(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	for _, w := range []string{"soon", "1s", "16m", "-5m", "1h"} {
		r := get(t, node.URL+"/api/v1/stats/throughput?window="+w)
		if r.status != http.StatusBadRequest {
			t.Errorf("window=%s: status %d, want 400", w, r.status)
			continue
		}
		if e := r.apiError(t); e.Code != consensus.CodeInvalid || string(e.Details) != `{"field":"window"}` {
			t.Errorf("window=%s: %s %s, want invalid naming the window", w, e.Code, e.Details)
		}
	}
}

// An admin asks a member to leave: this node itself, or another running
// member through AskLeave; unknown and stopped members are refused and
// nothing is asked. (test/web makes a real process leave from the page.)
func TestAskLeave(t *testing.T) {
	t.Parallel()
	left := make(chan struct{})
	var mu sync.Mutex
	var asked []string
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.OnLeave = func() { close(left) }
		c.Members = func() []api.Member {
			return []api.Member{{Name: "n1", State: "alive"}, {Name: "r1", State: "alive"}, {Name: "r2", State: "dead"}, {Name: "r3", State: "alive"}}
		}
		c.AskLeave = func(_ context.Context, name string) error {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, name)
			if name == "r3" {
				return errors.New("connection refused")
			}
			return nil
		}
	}})
	node.WaitLeaderKnown(t, 10*time.Second)
	leave := func(name string) response {
		return postJSON(t, node.URL+"/api/v1/cluster/members/"+name+"/leave", ``)
	}
	if r := leave("r1"); r.status != http.StatusAccepted {
		t.Errorf("r1: status %d %s, want 202", r.status, r.body)
	}
	for name, code := range map[string]string{"nobody": consensus.CodeNotFound, "r2": consensus.CodeConflict, "r3": api.CodeUnavailable} {
		if r := leave(name); r.apiError(t).Code != code {
			t.Errorf("%s: status %d %s, want %s", name, r.status, r.body, code)
		}
	}
	mu.Lock()
	if len(asked) != 2 || asked[0] != "r1" || asked[1] != "r3" {
		t.Errorf("asked %v, want [r1 r3]", asked)
	}
	mu.Unlock()
	viewer := postJSON(t, node.URL+"/api/v1/cluster/members/n1/leave", ``, "Authorization", "Bearer "+node.NewToken(t, "alice", consensus.RoleViewer))
	if viewer.status != http.StatusForbidden {
		t.Errorf("viewer: status %d, want 403", viewer.status)
	}
	if r := leave("n1"); r.status != http.StatusAccepted {
		t.Fatalf("n1 itself: status %d %s, want 202", r.status, r.body)
	}
	select {
	case <-left:
	case <-time.After(10 * time.Second):
		t.Fatal("OnLeave not called")
	}
}
