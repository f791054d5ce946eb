package consensus

import (
	"context"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestRobotWorkAppliesReportsBeforeClaims: an entry of reports and claims
// applies as the reports' entry followed by the claims' would: the
// completion frees the robot's job before its claim leases new ones,
// under the entry's index, and a stale completion fails alone.
func TestRobotWorkAppliesReportsBeforeClaims(t *testing.T) {
	h := newQueueHarness(t)
	for _, id := range []string{"j0", "j1", "j2"} {
		h.submit(id, 0)
	}
	first := h.mustApply(cmdClaimGroups, ClaimGroupsCmd{Claims: []ClaimCmd{{RobotID: "r1", RobotKind: RobotInternet, Max: 1, RequestID: "a"}}}).(claimAnswer).full
	if len(first) != 1 || len(first[0].Value) != 1 {
		t.Fatalf("first claim: %+v", first)
	}
	done := first[0].Value[0].Job
	answer := h.mustApply(cmdRobotWork, RobotWorkCmd{
		Reports: []RobotReport{
			{Complete: &CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: done.ID, Token: done.Lease.Token, Succeeded: true}}}},
			{Complete: &CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: done.ID, Token: done.Lease.Token + 1, Succeeded: true}}}},
		},
		Claims: []ClaimCmd{{RobotID: "r1", RobotKind: RobotInternet, Max: 5, RequestID: "b"}},
	}).(robotWorkAnswer)
	if err := answer.check(2, 1); err != nil {
		t.Fatal(err)
	}
	if acks := answer.Reports[0].Value; answer.Reports[0].Error != nil || len(acks) != 1 || !acks[0].OK {
		t.Errorf("the completion's part: %+v", answer.Reports[0])
	}
	if acks := answer.Reports[1].Value; answer.Reports[1].Error != nil || len(acks) != 1 || acks[0].OK {
		t.Errorf("a completion under a stale token: %+v, want refused on its own", answer.Reports[1])
	}
	if j, ok := h.f.state.jobs[done.ID]; !ok || j.State != JobSucceeded {
		t.Errorf("job %s after its completion: %+v", done.ID, j)
	}
	claimed := answer.Claims.full
	if len(claimed) != 1 || claimed[0].Error != nil || len(claimed[0].Value) != 2 {
		t.Fatalf("the claim's part: %+v", claimed)
	}
	for _, c := range claimed[0].Value {
		if c.Job.ID == done.ID || c.Job.Lease.RobotID != "r1" || c.Job.Lease.Token != h.index {
			t.Errorf("claimed %s leased %+v, want one of the other jobs under the entry's index %d", c.Job.ID, c.Job.Lease, h.index)
		}
	}
}

// TestInternetClaimsShareTheEntryOfCompletions: an internet robot's claim
// and the completions and heartbeats that arrive while an entry is in
// flight commit together, in one entry, and each caller gets its own
// part of it.
func TestInternetClaimsShareTheEntryOfCompletions(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := internetQueue(t, ctx, "j0", "j1", "j2", "j3")
	claim := func(robot string, max int) []ClaimedJob {
		got, err := s.Claim(ctx, ClaimCmd{RobotID: robot, RobotKind: RobotInternet, Max: max, RequestID: robot + "-first"})
		if err != nil || len(got) != max {
			t.Fatalf("claim of %s: %v %v", robot, got, err)
		}
		return got
	}
	r1, r2 := claim("r1", 2), claim("r2", 1)
	// A claim returns before the loop that flushed its entry has let go
	// of its slot: until it has, the batcher only looks like it holds the
	// first completion below in flight (ci36 saw that race merge the two
	// completions).
	testutil.WaitFor(t, 10*time.Second, "the claims' flush to end", func() bool {
		s.robots.reports.mu.Lock()
		defer s.robots.reports.mu.Unlock()
		return s.robots.reports.inFlight == 0
	})
	completion := func(j Job) CompleteCmd {
		return CompleteCmd{RobotID: j.Lease.RobotID, Items: []Completion{{JobID: j.ID, Token: j.Lease.Token, Succeeded: true}}}
	}
	before := s.AppliedEntries()

	// Hold the state machine so that the first completion's entry stays
	// in flight while the other calls arrive.
	release, holding := make(chan struct{}), make(chan struct{})
	free := sync.OnceFunc(func() { close(release) })
	defer free() // a failed test does not leave the store stuck for its cleanup
	var held sync.WaitGroup
	held.Go(func() {
		s.fsm.read(func(*state) {
			close(holding)
			<-release
		})
	})
	<-holding
	var calls sync.WaitGroup
	calls.Go(func() {
		if acks, err := s.Complete(ctx, completion(r1[0].Job)); err != nil || len(acks) != 1 || !acks[0].OK {
			t.Errorf("the first completion: %+v %v", acks, err)
		}
	})
	testutil.WaitFor(t, 10*time.Second, "the first completion to be on its way", func() bool {
		s.robots.reports.mu.Lock()
		defer s.robots.reports.mu.Unlock()
		return s.robots.reports.inFlight == 1 && len(s.robots.reports.pending) == 0
	})
	var claimed []ClaimedJob
	calls.Go(func() {
		if acks, err := s.Complete(ctx, completion(r1[1].Job)); err != nil || len(acks) != 1 || !acks[0].OK {
			t.Errorf("the second completion: %+v %v", acks, err)
		}
	})
	calls.Go(func() {
		if acks, err := s.Progress(ctx, ProgressCmd{RobotID: "r2", Items: []Progress{{JobID: r2[0].Job.ID, Token: r2[0].Job.Lease.Token}}}); err != nil || len(acks) != 1 || !acks[0].OK {
			t.Errorf("the heartbeat: %+v %v", acks, err)
		}
	})
	calls.Go(func() {
		var err error
		if claimed, err = s.Claim(ctx, ClaimCmd{RobotID: "r1", RobotKind: RobotInternet, Max: 2, RequestID: "r1-second"}); err != nil {
			t.Errorf("the second claim: %v", err)
		}
	})
	testutil.WaitFor(t, 10*time.Second, "the three calls to wait for the entry in flight", func() bool {
		s.robots.reports.mu.Lock()
		defer s.robots.reports.mu.Unlock()
		return len(s.robots.reports.pending) == 3
	})
	free()
	held.Wait()
	calls.Wait()

	after := s.AppliedEntries()
	for name, want := range map[string]uint64{"robot_reports": 1, "robot_work": 1, "claim_groups": 0} {
		if got := after[name] - before[name]; got != want {
			t.Errorf("%d %s entries, want %d (all: %v before, %v after)", got, name, want, before, after)
		}
	}
	if len(claimed) != 1 || claimed[0].Job.ID != "j3" || claimed[0].Job.Lease.RobotID != "r1" {
		t.Errorf("the second claim leased %+v, want the last job, j3", claimed)
	}
	for _, id := range []string{r1[0].Job.ID, r1[1].Job.ID} {
		if j, _, _ := s.Job(id); j.State != JobSucceeded {
			t.Errorf("job %s is %s after its completion", id, j.State)
		}
	}
}

// internetQueue starts a one-node cluster whose workflow w1 has queued
// the internet jobs of ids, in order.
func internetQueue(t *testing.T, ctx context.Context, ids ...string) *Store {
	t.Helper()
	s := startClusterWith(t, 1, nil).waitLeader(5 * time.Second)
	var jobs []JobSpec
	for _, id := range ids {
		jobs = append(jobs, JobSpec{ID: id, WorkflowID: "w1", ExecutionMode: RobotInternet})
	}
	if _, err := s.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a"), Jobs: jobs}); err != nil {
		t.Fatal(err)
	}
	return s
}

func sampleRobotWork() []RobotWorkCmd {
	var out []RobotWorkCmd
	claims := []ClaimCmd{
		{RobotID: "r1", RobotKind: RobotInternet, Tags: []string{"sap", "é"}, Max: 2, RequestID: "0190c1d4"},
		{RobotID: "r2", RobotKind: RobotInternet, Max: 1},
	}
	for i, r := range sampleRobotReports() {
		out = append(out, RobotWorkCmd{Reports: r.Reports, Claims: claims[:i%3], Brief: i%2 == 0})
	}
	return out
}

// TestRobotWorkCodecsMatchJSON: entries written by appendFast read back
// under encoding/json (an older node's decoder) as they were, the fast
// decoder reads them as encoding/json does, and plain work entries take
// both fast paths: the fuzzers' equality alone would hold with fast paths
// that always refused.
func TestRobotWorkCodecsMatchJSON(t *testing.T) {
	for _, cmd := range sampleRobotWork() {
		checkAppendFast(t, &cmd)
		p, err := encodeJSON(cmd)
		if err != nil {
			t.Fatal(err)
		}
		compareDecodes[RobotWorkCmd](t, p)
	}
	plain := sampleRobotWork()[0]
	buf, ok := plain.appendFast(nil)
	if !ok {
		t.Fatalf("appendFast refused plain work %+v", plain)
	}
	if !compareDecodes[RobotWorkCmd](t, buf) {
		t.Errorf("decodeFast refused plain work %s", buf)
	}
	for _, p := range []string{
		`{"reports":[],"claims":null}`,
		`{"reports":[],"claims":[{"robot_id":"r1","max":1}],"claims":[]}`,
		`{"claims":[{"robot_id":"r1","max":1,"have":[1]}],"brief":false,"reports":[{}]}`,
		`{"reports":[],"claims":{"robot_id":"r1"}}`,
		`{"reports":[],"claims":[{"max":"1"}]}`,
	} {
		compareDecodes[RobotWorkCmd](t, []byte(p))
	}
}

func FuzzRobotWorkFastDecode(f *testing.F) {
	for _, cmd := range sampleRobotWork() {
		b, err := encodeJSON(cmd)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		compareDecodes[RobotWorkCmd](t, p)
	})
}

// TestRobotWorkAnswerCrossesTheWire: a follower reads the leader's answer
// to its forwarded entry as the leader built it, the claims' in brief.
func TestRobotWorkAnswerCrossesTheWire(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j0", 0)
	answer := h.mustApply(cmdRobotWork, RobotWorkCmd{
		Reports: []RobotReport{{Progress: &ProgressCmd{RobotID: "r9", Items: []Progress{{JobID: "nope", Token: 1}}}}},
		Claims:  []ClaimCmd{{RobotID: "r1", RobotKind: RobotInternet, Max: 1}, {RobotKind: RobotInternet, Max: 1}},
		Brief:   true,
	}).(robotWorkAnswer)
	b, err := json.Marshal(answer)
	if err != nil {
		t.Fatal(err)
	}
	var back robotWorkAnswer
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	if err := back.check(1, 2); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
	if !reflect.DeepEqual(back.Reports, answer.Reports) {
		t.Errorf("reports' parts read back as %+v, want %+v", back.Reports, answer.Reports)
	}
	brief := back.Claims.brief
	if back.Claims.full != nil || len(brief) != 2 || brief[0].Value == nil || len(brief[0].Value.IDs) != 1 ||
		brief[0].Value.IDs[0] != "j0" || brief[1].Error == nil || brief[1].Error.Code != CodeInvalid {
		t.Errorf("claims read back as %+v from %s, want j0's id and the second claim's own error", back.Claims, b)
	}
}

// TestWorkSharesAnEntryOnAnIdleNode: an internet robot's completions and
// claim sent together by Work commit in one entry even when nothing else
// is in flight, where sent one after the other the claim would wait for
// the completions' entry to commit.
func TestWorkSharesAnEntryOnAnIdleNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := internetQueue(t, ctx, "j0", "j1")
	first, err := s.Claim(ctx, ClaimCmd{RobotID: "r1", RobotKind: RobotInternet, Max: 1, RequestID: "a"})
	if err != nil || len(first) != 1 {
		t.Fatalf("claim: %v %v", first, err)
	}
	j := first[0].Job
	before := s.AppliedEntries()
	out, err := s.Work(ctx, CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: j.ID, Token: j.Lease.Token, Succeeded: true}}},
		ClaimCmd{RobotID: "r1", RobotKind: RobotInternet, Max: 1, RequestID: "b"})
	if err != nil || out.CompleteErr != nil || len(out.Acks) != 1 || !out.Acks[0].OK {
		t.Fatalf("work: %+v %v", out, err)
	}
	if len(out.Jobs) != 1 || out.Jobs[0].Job.ID == j.ID || out.Jobs[0].Graph == nil {
		t.Errorf("work claimed %+v, want the other job with its graph", out.Jobs)
	}
	after := s.AppliedEntries()
	for name, want := range map[string]uint64{"robot_reports": 0, "robot_work": 1, "claim_groups": 0} {
		if got := after[name] - before[name]; got != want {
			t.Errorf("%d %s entries, want %d", got, name, want)
		}
	}
}

// TestAClaimAppliedAfterItsLeaderLeftIsSentAgain: a robot work entry that
// a node applies after it stopped leading keeps its reports' acks, and
// its claims say so (CodeNotLeader); robotGroups.claimed then sends the
// claim again, whose request id replays the leases.
func TestAClaimAppliedAfterItsLeaderLeftIsSentAgain(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j0", 0)
	h.submit("j1", 0)
	claimed := h.claim("r1", 1)
	// The handler as a former leader's FSM runs it: its answer goes to a
	// caller that may still wait.
	answer, err := queueApply{h.f.state}.robotWork(applyContext{index: h.index + 1, now: h.now, following: true}, &RobotWorkCmd{
		Reports: []RobotReport{{Complete: &CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: claimed[0].Job.ID, Token: claimed[0].Job.Lease.Token, Succeeded: true}}}}},
		Claims:  []ClaimCmd{{RobotID: "r1", RobotKind: RobotInternet, Max: 1, RequestID: "b"}},
		Brief:   true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := answer.check(1, 1); err != nil {
		t.Fatal(err)
	}
	if p := answer.Reports[0]; p.Error != nil || len(p.Value) != 1 || !p.Value[0].OK {
		t.Errorf("the completion's part on a former leader: %+v, want its ack", p)
	}
	b, err := json.Marshal(answer)
	if err != nil {
		t.Fatal(err)
	}
	var back robotWorkAnswer
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	for _, a := range []robotWorkAnswer{answer, back} {
		parts, err := a.Claims.parts(context.Background(), Replica{&Store{fsm: h.f}})
		if err != nil || len(parts) != 1 || parts[0].Error == nil || parts[0].Error.Code != CodeNotLeader {
			t.Errorf("the claim's part on a former leader: %+v %v, want CodeNotLeader", parts, err)
		}
	}
}

// TestAClaimWithoutAnAnswerIsSentAgainUnderItsRequestID: a claim whose
// robot work entry applied after its leader stopped leading is sent
// again on its own, and its request id hands back the jobs the entry
// leased instead of leasing more; without a request id it fails, as a
// resend would lease more jobs and strand the first ones.
func TestAClaimWithoutAnAnswerIsSentAgainUnderItsRequestID(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := internetQueue(t, ctx, "j0", "j1")
	cmd := ClaimCmd{RobotID: "r1", RobotKind: RobotInternet, Max: 1, RequestID: "lost-answer"}
	first, err := s.Claim(ctx, cmd)
	if err != nil || len(first) != 1 {
		t.Fatalf("claim: %v %v", first, err)
	}
	noAnswer := claimAnswer{full: []Part[[]ClaimedJob]{{Error: partError(errFollowing())}}}
	again, err := s.robots.claimed(ctx, cmd, noAnswer)
	if err != nil || len(again) != 1 || again[0].Job.ID != first[0].Job.ID || again[0].Job.Lease.Token != first[0].Job.Lease.Token {
		t.Fatalf("the claim sent again got %+v, %v; want %s under token %d", again, err, first[0].Job.ID, first[0].Job.Lease.Token)
	}
	cmd.RequestID = ""
	if got, err := s.robots.claimed(ctx, cmd, noAnswer); !IsCode(err, CodeNotLeader) || got != nil {
		t.Errorf("a claim without a request id: %+v, %v; want its not_leader error", got, err)
	}
	if j, _, _ := s.Job("j1"); j.State != JobQueued {
		t.Errorf("job j1 is %s, want it left queued", j.State)
	}
}
