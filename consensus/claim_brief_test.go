package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestABriefClaimAnswerNamesTheJobs: a leader answers a claim that asks
// for it with the leased jobs' ids and token, not copies of the jobs,
// and a follower that claims hands over the jobs as its replica holds
// them, equal to the leader's.
func TestABriefClaimAnswerNamesTheJobs(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	follower := c.follower()
	var specs []JobSpec
	for i := range 20 {
		specs = append(specs, JobSpec{ID: fmt.Sprintf("j%d", i), ExecutionMode: ModeLAN, Params: json.RawMessage(`{"n":1}`)})
	}
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: json.RawMessage(`{"nodes":[]}`), Jobs: specs}); err != nil {
		t.Fatal(err)
	}
	buf, err := encodeCommand(cmdClaimGroups, ClaimGroupsCmd{Brief: true, Claims: []ClaimCmd{
		{RobotID: "r1", RobotKind: RobotLAN, Max: 10, RequestID: "a"},
		{RobotID: "", RobotKind: RobotLAN, Max: 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := leader.ApplyRaw(ctx, buf)
	if err != nil {
		t.Fatal(err)
	}
	var answer claimAnswer
	if err := json.Unmarshal(raw, &answer); err != nil {
		t.Fatal(err)
	}
	if len(answer.brief) != 2 || answer.brief[0].Value == nil || len(answer.brief[0].Value.IDs) != 10 ||
		answer.brief[1].Error == nil || strings.Contains(string(raw), `"workflow_id"`) {
		t.Fatalf("brief claim answered %s", raw)
	}

	jobs, err := follower.Claim(ctx, ClaimCmd{RobotID: "r2", RobotKind: RobotLAN, Max: 5, RequestID: "b"})
	if err != nil || len(jobs) != 5 {
		t.Fatalf("claim through a follower: %d jobs, %v", len(jobs), err)
	}
	for _, got := range jobs {
		want, found, _ := leader.Job(got.Job.ID)
		if !found || got.Job.Lease == nil || got.Job.Lease.RobotID != "r2" || string(got.Graph) != `{"nodes":[]}` {
			t.Fatalf("follower handed over %+v (graph %s)", got.Job, got.Graph)
		}
		// As JSON: gen, a replica's own snapshot generation, may differ.
		g, _ := json.Marshal(got.Job)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("follower handed over\n%s\nthe leader holds\n%s", g, w)
		}
	}
}

// TestClaimAnswerReadsBothForms: a node reads the full answer of a leader
// that ignores Brief (an older build), and the brief answer's copies come
// only from jobs still leased under the answered token.
func TestClaimAnswerReadsBothForms(t *testing.T) {
	h := newQueueHarness(t)
	for i := range 3 {
		h.submit(fmt.Sprintf("j%d", i), 0)
	}
	full := h.mustApply(cmdClaimGroups, ClaimGroupsCmd{Claims: []ClaimCmd{{RobotID: "r1", Max: 2, RequestID: "a"}}}).(claimAnswer)
	if full.asked || len(full.full) != 1 || len(full.full[0].Value) != 2 {
		t.Fatalf("claim answered %+v", full)
	}
	old, err := json.Marshal(full)
	if err != nil || !strings.HasPrefix(string(old), "[") {
		t.Fatalf("an answer not asked brief encodes as %s, %v; older followers read an array", old, err)
	}
	var back claimAnswer
	if err := json.Unmarshal(old, &back); err != nil || back.brief != nil || len(back.full) != 1 ||
		jobIDs(back.full[0].Value)[1] != jobIDs(full.full[0].Value)[1] {
		t.Fatalf("full answer read back as %+v, %v", back, err)
	}

	full.asked = true
	brief, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	back = claimAnswer{}
	if err := json.Unmarshal(brief, &back); err != nil || back.brief == nil {
		t.Fatalf("brief answer %s read back as %+v, %v", brief, back, err)
	}
	copies := h.f.state.leasedCopies(back.brief[0].Value)
	if !reflect.DeepEqual(copies, full.full[0].Value) {
		t.Errorf("brief answer copied\n%+v\nthe claim answered\n%+v", copies, full.full[0].Value)
	}
	// A job no longer leased under the token is left out, as a replayed
	// claim leaves it out.
	stale := *back.brief[0].Value
	stale.Token++
	if got := h.f.state.leasedCopies(&stale); len(got) != 0 {
		t.Errorf("jobs leased under another token copied: %+v", got)
	}
}

// TestBriefClaimWaitEndsWithTheStore: a node waiting for its replica to
// apply claims it was answered briefly stops waiting when the store
// closes, instead of holding Store.Close for the apply timeout.
func TestBriefClaimWaitEndsWithTheStore(t *testing.T) {
	h := newQueueHarness(t)
	r := newStore(Config{}, slog.New(slog.DiscardHandler), h.f).Replica
	ahead := claimAnswer{brief: []Part[*leasedIDs]{{Value: &leasedIDs{Token: 1 << 40, IDs: []string{"j0"}}}}}
	lifetime, closeStore := context.WithCancel(context.Background())
	closeStore()
	done := make(chan error, 1)
	go func() {
		_, err := ahead.parts(lifetime, r)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("claims the replica never applied were handed over")
		}
	case <-time.After(DefaultApplyTimeout / 3):
		t.Fatal("the wait went on after the store closed")
	}
}
