package consensus

import (
	"testing"
	"time"
)

// A job whose robot is declared dead or cut off goes back to the queue
// without spending an attempt: the robot failed, not the job. A job that
// keeps losing its robots ends dead after maxRobotLosses, because it may
// be what kills them.
func TestLosingTheRobotSpendsNoAttemptButIsBounded(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	for loss := 1; loss <= maxRobotLosses; loss++ {
		got := h.claim("r1", 1)
		if len(got) != 1 || got[0].Job.Attempt != 1 {
			t.Fatalf("claim after %d losses = %+v, want attempt 1", loss-1, got)
		}
		if loss%2 == 0 {
			h.mustApply(cmdRobotGone, RobotGoneCmd{RobotID: "r1", Reason: "dead"})
		} else {
			h.advance(DefaultVisibilityTimeout)
			h.mustApply(cmdExpireLeases, ExpireCmd{Items: []LeaseRef{{"j1", got[0].Job.Lease.Token}}})
		}
		j := h.f.state.jobs["j1"]
		if j.State != JobQueued || j.Attempt != 0 || j.RobotLosses != loss {
			t.Fatalf("after loss %d: state %s attempt %d losses %d, want queued, 0, %d", loss, j.State, j.Attempt, j.RobotLosses, loss)
		}
		h.advance(avoidWindow)
	}
	h.claim("r1", 1)
	h.mustApply(cmdRobotGone, RobotGoneCmd{RobotID: "r1", Reason: "dead"})
	if j := h.f.state.jobs["j1"]; j.State != JobDead || j.Lease != nil {
		t.Fatalf("after %d losses: state %s lease %+v, want dead without lease", maxRobotLosses+1, j.State, j.Lease)
	}
}

// The leader names the quiet leases it saw; a heartbeat that renewed one
// after the leader's scan proves the robot alive, and that lease stays.
func TestRobotGoneSparesLeasesRenewedSinceTheScan(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("quiet", 0)
	h.submit("renewed", 0)
	got := h.claim("r1", 2)
	if len(got) != 2 {
		t.Fatalf("claimed %d jobs, want 2", len(got))
	}
	var refs []LeaseRef
	tokens := map[string]uint64{}
	for _, c := range got {
		refs = append(refs, LeaseRef{c.Job.ID, c.Job.Lease.Token})
		tokens[c.Job.ID] = c.Job.Lease.Token
	}
	h.advance(RobotRequeueDelay)
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "renewed", Token: tokens["renewed"]}}})
	h.advance(time.Millisecond)
	n := h.mustApply(cmdRobotGone, RobotGoneCmd{RobotID: "r1", Reason: "dead", Items: refs, Quiet: Duration(RobotRequeueDelay)}).(int)
	if n != 1 {
		t.Fatalf("requeued %d jobs, want 1", n)
	}
	if j := h.f.state.jobs["quiet"]; j.State != JobQueued {
		t.Fatalf("quiet lease: job %s, want queued", j.State)
	}
	if j := h.f.state.jobs["renewed"]; j.State != JobRunning || j.Lease.Token != tokens["renewed"] {
		t.Fatalf("renewed lease: job %s, want still running under its lease", j.State)
	}
}
