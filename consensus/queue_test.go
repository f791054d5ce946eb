package consensus

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func (h *fsmHarness) advance(d time.Duration) { h.now = h.now.Add(d) }

func newQueueHarness(t testing.TB) *fsmHarness {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	return h
}

func (h *fsmHarness) submit(id string, prio int) {
	h.t.Helper()
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: id, WorkflowID: "w1", Priority: prio, ExecutionMode: "any"}}})
}

func (h *fsmHarness) claim(robot string, n int) []ClaimedJob {
	h.t.Helper()
	return h.mustApply(cmdClaimJobs, ClaimCmd{RobotID: robot, RobotKind: RobotLAN, Max: n}).([]ClaimedJob)
}

func (h *fsmHarness) complete(robot string, c Completion) Ack {
	h.t.Helper()
	return h.mustApply(cmdCompleteJobs, CompleteCmd{RobotID: robot, Items: []Completion{c}}).([]Ack)[0]
}

func TestClaimLeasesWithFencingToken(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 5)
	got := h.claim("r1", 10)
	if len(got) != 1 || got[0].Job.Lease == nil || got[0].Job.Lease.Token != h.index || string(got[0].Graph) != string(graph("a")) {
		t.Fatalf("claim = %+v", got)
	}
	token := got[0].Job.Lease.Token
	if again := h.claim("r2", 10); len(again) != 0 {
		t.Fatal("a leased job was handed out twice")
	}
	// The lease expires; the job goes back and r2 takes it.
	h.advance(DefaultVisibilityTimeout + time.Second)
	if n := h.mustApply(cmdExpireLeases, ExpireCmd{Items: []LeaseRef{{"j1", token}}}).(int); n != 1 {
		t.Fatalf("expired %d", n)
	}
	h.advance(avoidWindow) // r1 is avoided for a while; r2 is not anyway
	got2 := h.claim("r2", 1)
	// Losing the robot spent no attempt.
	if len(got2) != 1 || got2[0].Job.Attempt != 1 || got2[0].Job.RobotLosses != 1 {
		t.Fatalf("reclaim = %+v", got2)
	}
	// r1's late completion carries the old token and is refused.
	if ack := h.complete("r1", Completion{JobID: "j1", Token: token, Succeeded: true}); ack.OK || !ack.Stop {
		t.Fatalf("stale completion accepted: %+v", ack)
	}
	if ack := h.complete("r2", Completion{JobID: "j1", Token: got2[0].Job.Lease.Token, Succeeded: true}); !ack.OK || ack.State != JobSucceeded {
		t.Fatalf("completion refused: %+v", ack)
	}
	j := h.f.state.jobs["j1"]
	if len(j.Attempts) != 2 || j.Attempts[0].RobotID != "r1" || j.Attempts[1].RobotID != "r2" {
		t.Fatalf("attempt history %+v", j.Attempts)
	}
}

func TestHeartbeatExtendsLeaseAndExpiryRaceLosesToIt(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	token := h.claim("r1", 1)[0].Job.Lease.Token
	h.advance(DefaultVisibilityTimeout - time.Second)
	acks := h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token,
		Checkpoint: []byte(`{"completed":["a"]}`), Logs: []LogLine{{Message: "hi"}}, NodeStatus: map[string]string{"a": "done"}}}}).([]Ack)
	if !acks[0].OK {
		t.Fatalf("heartbeat refused: %+v", acks)
	}
	// The leader's scan saw the old deadline, but the heartbeat landed
	// first: the FSM re-checks and keeps the lease.
	h.advance(2 * time.Second)
	if n := h.mustApply(cmdExpireLeases, ExpireCmd{Items: []LeaseRef{{"j1", token}}}).(int); n != 0 {
		t.Fatal("a freshly extended lease was expired")
	}
	j := h.f.state.jobs["j1"]
	if string(j.Checkpoint) != `{"completed":["a"]}` || len(j.Logs) != 1 || j.NodeStatus["a"] != "done" {
		t.Fatalf("progress not recorded: %+v", j)
	}
}

func TestFailureKindsAndBackoff(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("biz", 0)
	h.submit("app", 0)
	claimed := h.claim("r1", 2)
	tok := map[string]uint64{}
	for _, c := range claimed {
		tok[c.Job.ID] = c.Job.Lease.Token
	}
	if ack := h.complete("r1", Completion{JobID: "biz", Token: tok["biz"], Error: "bad invoice", FailureKind: FailureBusiness}); ack.State != JobFailed {
		t.Fatalf("business failure → %s, want failed at once", ack.State)
	}
	ack := h.complete("r1", Completion{JobID: "app", Token: tok["app"], Error: "timeout", FailureKind: FailureApplication})
	j := h.f.state.jobs["app"]
	if ack.State != JobQueued || !j.NotBefore.Equal(h.now.Add(DefaultBackoff)) {
		t.Fatalf("application failure → %s not before %v (now %v)", ack.State, j.NotBefore, h.now)
	}
	if len(h.claim("r2", 1)) != 0 {
		t.Fatal("job claimed during its backoff")
	}
	h.advance(DefaultBackoff)
	second := h.claim("r2", 1)
	if len(second) != 1 {
		t.Fatal("job not claimable after backoff")
	}
	h.complete("r2", Completion{JobID: "app", Token: second[0].Job.Lease.Token, Error: "again"})
	if got := j.NotBefore.Sub(h.now); got != 2*DefaultBackoff {
		t.Fatalf("second backoff %v, want %v", got, 2*DefaultBackoff)
	}
}

func TestRetryPrefersAnotherRobot(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	h.claim("r1", 1)
	h.mustApply(cmdRobotGone, RobotGoneCmd{RobotID: "r1", Reason: "dead"})
	if got := h.claim("r1", 1); len(got) != 0 {
		t.Fatal("the robot that lost the job got it straight back")
	}
	if got := h.claim("r2", 1); len(got) != 1 || got[0].Job.Attempt != 1 {
		t.Fatalf("another robot could not take it: %+v", got)
	}
}

func TestMaxConcurrencyPauseAndSelectors(t *testing.T) {
	h := newQueueHarness(t)
	two := 2
	h.mustApply(cmdSettings, SettingsCmd{WorkflowID: "w1", MaxConcurrency: &two})
	for i := range 4 {
		h.submit(fmt.Sprint("j", i), 0)
	}
	if got := h.claim("r1", 10); len(got) != 2 {
		t.Fatalf("claimed %d with max_concurrency 2", len(got))
	}
	h.mustApply(cmdPause, PauseCmd{Paused: true})
	h.mustApply(cmdSettings, SettingsCmd{WorkflowID: "w1", MaxConcurrency: new(int)})
	if got := h.claim("r1", 10); len(got) != 0 {
		t.Fatal("claimed from a paused queue")
	}
	h.mustApply(cmdPause, PauseCmd{Paused: false})
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{
		{ID: "tagged", WorkflowID: "w1", Priority: 9, ExecutionMode: "any", RobotTags: []string{"sap"}},
		{ID: "net", WorkflowID: "w1", Priority: 9, ExecutionMode: "internet"},
	}})
	got := h.claim("r1", 10)
	for _, c := range got {
		if c.Job.ID == "tagged" || c.Job.ID == "net" {
			t.Fatalf("robot without tag sap / a LAN robot claimed %s", c.Job.ID)
		}
	}
	tagged := h.mustApply(cmdClaimJobs, ClaimCmd{RobotID: "r2", RobotKind: RobotInternet, Tags: []string{"sap"}, Max: 5}).([]ClaimedJob)
	if len(tagged) != 2 {
		t.Fatalf("tagged internet robot claimed %d, want 2", len(tagged))
	}
}

func TestRetriedClaimReturnsSameJobs(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	h.submit("j2", 0)
	cmd := ClaimCmd{RobotID: "r1", RobotKind: RobotLAN, Max: 1, RequestID: "req-1"}
	first := h.mustApply(cmdClaimJobs, cmd).([]ClaimedJob)
	again := h.mustApply(cmdClaimJobs, cmd).([]ClaimedJob)
	if len(first) != 1 || len(again) != 1 || first[0].Job.ID != again[0].Job.ID || h.f.state.queue.Len() != 1 {
		t.Fatalf("retried claim: first %v again %v queue %d", first, again, h.f.state.queue.Len())
	}
}

// TestQueueProperties drives the queue with random interleavings of
// every operation (submit, claim, heartbeat, complete, fail, expire,
// cancel, robot loss, hand-back) and checks after each step that no job is lost, no job
// holds two leases, no job completes twice, the indexes agree with the
// jobs, and a snapshot/restore changes nothing.
func TestQueueProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		h := newQueueHarness(t)
		robots := []string{"r1", "r2", "r3"}
		submitted := map[string]bool{}
		succeeded := map[string]int{}
		tokens := map[string]uint64{} // last token each job was leased with
		for step := range rapid.IntRange(1, 80).Draw(rt, "steps") {
			robot := rapid.SampledFrom(robots).Draw(rt, "robot")
			switch op := rapid.IntRange(0, 9).Draw(rt, "op"); op {
			case 0, 1:
				id := fmt.Sprint("j", step)
				h.submit(id, rapid.IntRange(0, 9).Draw(rt, "prio"))
				submitted[id] = true
			case 2:
				for _, c := range h.claim(robot, rapid.IntRange(1, 3).Draw(rt, "n")) {
					tokens[c.Job.ID] = c.Job.Lease.Token
				}
			case 3, 4:
				id, tok := pickLeased(rt, h, tokens)
				ack := h.complete(robot, Completion{JobID: id, Token: tok, Succeeded: op == 3, Error: "x"})
				if ack.OK && ack.State == JobSucceeded {
					succeeded[id]++
				}
			case 5:
				id, tok := pickLeased(rt, h, tokens)
				h.mustApply(cmdProgress, ProgressCmd{RobotID: robot, Items: []Progress{{JobID: id, Token: tok}}})
			case 6:
				h.advance(time.Duration(rapid.IntRange(0, 40).Draw(rt, "secs")) * time.Second)
				var refs []LeaseRef
				for id, tok := range tokens {
					refs = append(refs, LeaseRef{id, tok})
				}
				h.mustApply(cmdExpireLeases, ExpireCmd{Items: refs})
			case 7:
				id, _ := pickLeased(rt, h, tokens)
				h.apply(cmdCancelJob, CancelJobCmd{ID: id})
			case 8:
				h.mustApply(cmdRobotGone, RobotGoneCmd{RobotID: robot, Reason: "dead"})
			case 9:
				id, tok := pickLeased(rt, h, tokens)
				h.mustApply(cmdHandBack, HandBackCmd{RobotID: robot, Reason: "leaving", Items: []Progress{{JobID: id, Token: tok}}})
			}
			checkQueueInvariants(rt, h, submitted, succeeded)
		}
	})
}

func pickLeased(rt *rapid.T, h *fsmHarness, tokens map[string]uint64) (string, uint64) {
	if len(tokens) == 0 {
		return "none", 0
	}
	var ids []string
	for id := range h.f.state.jobs {
		if _, ok := tokens[id]; ok {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return "none", 0
	}
	slices.Sort(ids)
	id := rapid.SampledFrom(ids).Draw(rt, "job")
	return id, tokens[id]
}

func checkQueueInvariants(rt *rapid.T, h *fsmHarness, submitted map[string]bool, succeeded map[string]int) {
	st := h.f.state
	for id := range submitted {
		if st.jobs[id] == nil {
			rt.Fatalf("job %s lost", id)
		}
	}
	for id, n := range succeeded {
		if n > 1 {
			rt.Fatalf("job %s completed %d times", id, n)
		}
	}
	queued, running := 0, 0
	perWF := map[string]int{}
	for _, j := range st.jobs {
		switch j.State {
		case JobQueued:
			queued++
			if j.lease() != nil {
				rt.Fatalf("queued job %s holds a lease", j.ID)
			}
		case JobRunning:
			running++
			perWF[j.WorkflowID]++
			if j.lease() == nil || st.running[j.ID] != j {
				rt.Fatalf("running job %s without lease or index entry", j.ID)
			}
		}
		if j.State.Terminal() && j.lease() != nil {
			rt.Fatalf("finished job %s still holds a lease", j.ID)
		}
		if j.Attempt > j.MaxAttempts {
			rt.Fatalf("job %s on attempt %d of %d", j.ID, j.Attempt, j.MaxAttempts)
		}
	}
	if queued != st.queue.Len() || running != len(st.running) || fmt.Sprint(perWF) != fmt.Sprint(st.runningPerWF) {
		rt.Fatalf("indexes disagree: queued %d/%d running %d/%d perWF %v/%v",
			queued, st.queue.Len(), running, len(st.running), perWF, st.runningPerWF)
	}
	before := snapshotBytes(h.t, h.f)
	restored := newFSM()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(before))); err != nil {
		rt.Fatal(err)
	}
	if after := snapshotBytes(h.t, restored); !bytes.Equal(before, after) {
		rt.Fatalf("snapshot/restore changed the state")
	}
	if restored.state.queue.Len() != st.queue.Len() || len(restored.state.running) != len(st.running) {
		rt.Fatalf("restored indexes differ")
	}
}

func TestNotBeforeDefersAClaim(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "later", WorkflowID: "w1", ExecutionMode: "any", NotBefore: h.now.Add(time.Minute)}}})
	if got := h.claim("r1", 1); len(got) != 0 {
		t.Fatal("a deferred job was claimed early")
	}
	h.advance(time.Minute)
	if got := h.claim("r1", 1); len(got) != 1 {
		t.Fatal("a deferred job was not claimable after not_before")
	}
}

func TestCancelRunningJobStopsItsRobot(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	token := h.claim("r1", 1)[0].Job.Lease.Token
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "j1"})
	acks := h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token}}}).([]Ack)
	if !acks[0].Stop || acks[0].Reason != "job cancelled" {
		t.Fatalf("heartbeat of a cancelled job: %+v", acks[0])
	}
	if ack := h.complete("r1", Completion{JobID: "j1", Token: token, Succeeded: true}); ack.OK {
		t.Fatal("a cancelled job completed")
	}
}

func TestAvoidWindowCountsFromBackoffEnd(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: "any", Backoff: Duration(10 * time.Second)}}})
	c := h.claim("r1", 1)
	h.complete("r1", Completion{JobID: "j1", Token: c[0].Job.Lease.Token, Error: "flaky"})
	h.advance(10 * time.Second)
	if got := h.claim("r1", 1); len(got) != 0 {
		t.Fatal("the robot that just failed got the job back the moment its backoff ended")
	}
	if got := h.claim("r2", 1); len(got) != 1 {
		t.Fatal("another robot could not take the job after its backoff")
	}
}

func TestHandBackDoesNotSpendAnAttempt(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: "any", MaxAttempts: 1}}})
	c := h.claim("r1", 1)
	acks := h.mustApply(cmdHandBack, HandBackCmd{RobotID: "r1", Reason: "leaving", Items: []Progress{{JobID: "j1", Token: c[0].Job.Lease.Token, Checkpoint: []byte(`{"completed":["a"]}`)}}}).([]Ack)
	j := h.f.state.jobs["j1"]
	if !acks[0].OK || j.State != JobQueued || j.Attempt != 0 || string(j.Checkpoint) != `{"completed":["a"]}` {
		t.Fatalf("after hand-back: ack %+v, job %s attempt %d checkpoint %s", acks[0], j.State, j.Attempt, j.Checkpoint)
	}
	h.advance(avoidWindow)
	again := h.claim("r2", 1)
	if len(again) != 1 || again[0].Job.Attempt != 1 {
		t.Fatalf("a job with max_attempts 1 could not run again after a hand-back: %+v", again)
	}
}

// A follower leases the jobs a claim picks without copying them for an
// answer no one reads there; a caller still waiting gets a code it
// retries on, and the retry, with the claim's request id, gets the jobs
// the first apply leased.
func TestFollowerAppliesClaimsWithoutResults(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	h.submit("j2", 0)
	claim := ClaimGroupsCmd{Claims: []ClaimCmd{{RobotID: "r1", Max: 2, RequestID: "q1"}}}
	entry := h.entry(cmdClaimGroups, claim)
	v, err, skipped := h.f.handlers.apply(h.f.state, applyContext{index: entry.Index, following: true}, entry.Data)
	if parts := v.(claimAnswer).full; skipped != nil || parts != nil || !retryable(err) {
		t.Fatalf("follower's claim answered %v, %v (skipped %v), want no value and a retryable error", v, err, skipped)
	}
	if h.f.state.counts.Running != 2 {
		t.Fatalf("%d running after the follower's claim, want 2", h.f.state.counts.Running)
	}
	parts := h.mustApply(cmdClaimGroups, claim).(claimAnswer).full
	if len(parts) != 1 || parts[0].Error != nil || len(parts[0].Value) != 2 || parts[0].Value[0].Job.Lease.Token != entry.Index {
		t.Fatalf("the retried claim answered %+v, want the two jobs leased by the first", parts)
	}
	if h.f.state.counts.Running != 2 || h.f.state.counts.Queued != 0 {
		t.Fatalf("counts after the retry %+v", h.f.state.counts)
	}
}
