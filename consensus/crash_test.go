package consensus

import (
	"strings"
	"testing"
	"time"
)

// Two runs that killed their robot's process make the job dead with that
// reason, whether the crashed robot still held the lease (it came back
// fast) or the lease had expired and the job was requeued meanwhile; a
// repeated report counts once.
func TestTwoCrashesMakeAJobDead(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	first := h.claim("r1", 1)[0].Job
	crash := func(robot string, j Job) Ack {
		t.Helper()
		return h.mustApply(cmdReportCrash, CrashCmd{RobotID: robot, Items: []Crash{{JobID: j.ID, Token: j.Lease.Token, Attempt: j.Attempt}}}).([]Ack)[0]
	}
	if ack := crash("r1", first); !ack.OK || ack.State != JobQueued {
		t.Fatalf("first crash: %+v; want the job requeued", ack)
	}
	if ack := crash("r1", first); !ack.OK || h.f.state.jobs["j1"].Crashes != 1 {
		t.Fatalf("a repeated report: %+v, crashes %d; want it counted once", ack, h.f.state.jobs["j1"].Crashes)
	}
	h.advance(time.Minute)
	second := h.claim("r2", 1)[0].Job
	// r2 is slow to come back: its lease expires first, as when gossip
	// declares it dead. That alone is no crash.
	h.advance(DefaultVisibilityTimeout + time.Second)
	h.mustApply(cmdExpireLeases, ExpireCmd{Items: []LeaseRef{{"j1", second.Lease.Token}}})
	j := h.f.state.jobs["j1"]
	if j.State != JobQueued || j.Crashes != 1 {
		t.Fatalf("after the expiry: state %s, crashes %d; want queued with one crash", j.State, j.Crashes)
	}
	if ack := crash("r2", second); !ack.OK || ack.State != JobDead {
		t.Fatalf("second crash: %+v; want the job dead", ack)
	}
	j = h.f.state.jobs["j1"]
	if j.FailureKind != FailureCrash || !strings.Contains(j.Error, "killed their robot's process 2 times") {
		t.Errorf("dead job: kind %q, error %q", j.FailureKind, j.Error)
	}
	for _, a := range j.Attempts {
		if a.Outcome != AttemptCrashed {
			t.Errorf("attempt %d on %s: outcome %q, want crashed", a.Attempt, a.RobotID, a.Outcome)
		}
	}
	if got := h.claim("r3", 1); len(got) != 0 {
		t.Fatal("a dead job was handed out again")
	}
}

// A report about an attempt the robot never ran changes nothing.
func TestCrashReportForAnotherRobotsAttemptIsIgnored(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	j := h.claim("r1", 1)[0].Job
	acks := h.mustApply(cmdReportCrash, CrashCmd{RobotID: "r2", Items: []Crash{{JobID: "j1", Token: j.Lease.Token, Attempt: 1}, {JobID: "nope", Attempt: 1}}}).([]Ack)
	if acks[0].OK || acks[1].OK {
		t.Fatalf("acks %+v; want both refused", acks)
	}
	if got := h.f.state.jobs["j1"]; got.State != JobRunning || got.Crashes != 0 {
		t.Fatalf("state %s, crashes %d; want untouched", got.State, got.Crashes)
	}
}
