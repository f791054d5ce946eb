package consensus

import (
	"context"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestAHandBackTakesTheHeldHeartbeatsWithIt: a robot that leaves hands its
// jobs back at once, and the heartbeat the node holds for the same job
// commits first, as it does before a completion: after the hand-back it
// would be refused as stale and its log lines lost.
func TestAHandBackTakesTheHeldHeartbeatsWithIt(t *testing.T) {
	const interval = time.Minute // no heartbeat goes out on its own in this test
	c := startClusterWith(t, 1, func(cfg *Config) { cfg.ProgressInterval = interval })
	s := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a"), Jobs: []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: "lan"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, ClaimCmd{RobotID: "r1", RobotKind: RobotLAN, Max: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	token := got[0].Job.Lease.Token
	// The first heartbeat finds the batcher idle and goes at once; the
	// second is held for the interval.
	if _, err := s.Progress(ctx, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token}}}); err != nil {
		t.Fatal(err)
	}
	held := make(chan []Ack, 1)
	go func() {
		acks, _ := s.Progress(ctx, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token, Logs: []LogLine{{Message: "before leaving"}}}}})
		held <- acks
	}()
	testutil.WaitFor(t, 5*time.Second, "the second heartbeat to be held", func() bool {
		s.robots.reports.mu.Lock()
		defer s.robots.reports.mu.Unlock()
		return len(s.robots.reports.pending) == 1
	})
	start := time.Now()
	acks, err := s.HandBack(ctx, HandBackCmd{RobotID: "r1", Reason: "leaving", Items: []Progress{{JobID: "j1", Token: token, Logs: []LogLine{{Message: "handed back"}}}}})
	if err != nil || len(acks) != 1 || !acks[0].OK {
		t.Fatalf("hand back: %+v %v", acks, err)
	}
	if waited := time.Since(start); waited > interval/2 {
		t.Errorf("the hand-back waited %v for the heartbeat interval", waited)
	}
	j, _, _ := s.Job("j1")
	var lines []string
	for _, l := range j.Logs {
		lines = append(lines, l.Message)
	}
	if j.State != JobQueued || len(lines) != 2 || lines[0] != "before leaving" || lines[1] != "handed back" {
		t.Errorf("job %s with log %q, want queued with the held heartbeat's line, then the hand-back's", j.State, lines)
	}
	cancel()
	if hb := <-held; len(hb) == 1 && !hb[0].OK {
		t.Errorf("the held heartbeat was refused: %+v", hb[0])
	}
}
