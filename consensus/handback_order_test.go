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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, token, held := holdHeartbeat(t, ctx, "before leaving")
	start := time.Now()
	acks, err := s.HandBack(ctx, HandBackCmd{RobotID: "r1", Reason: "leaving", Items: []Progress{{JobID: "j1", Token: token, Logs: []LogLine{{Message: "handed back"}}}}})
	if err != nil || len(acks) != 1 || !acks[0].OK {
		t.Fatalf("hand back: %+v %v", acks, err)
	}
	if waited := time.Since(start); waited > heldInterval/2 {
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

// heldInterval is the heartbeat interval of holdHeartbeat's node: no
// heartbeat goes out on its own in these tests.
const heldInterval = time.Minute

// holdHeartbeat starts a one-node cluster, claims job j1 of workflow w1
// for robot r1 and sends two heartbeats for it. The first finds the
// batcher idle and goes at once; the second, carrying one log line, is
// held for the interval when holdHeartbeat returns. Its acks come on
// held (none if it failed).
func holdHeartbeat(t *testing.T, ctx context.Context, line string) (s *Store, token uint64, held <-chan []Ack) {
	t.Helper()
	c := startClusterWith(t, 1, func(cfg *Config) { cfg.ProgressInterval = heldInterval })
	s = c.waitLeader(5 * time.Second)
	if _, err := s.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a"), Jobs: []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: "lan"}}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Claim(ctx, ClaimCmd{RobotID: "r1", RobotKind: RobotLAN, Max: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("claim: %v %v", got, err)
	}
	token = got[0].Job.Lease.Token
	if _, err := s.Progress(ctx, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token}}}); err != nil {
		t.Fatal(err)
	}
	acks := make(chan []Ack, 1)
	go func() {
		a, _ := s.Progress(ctx, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token, Logs: []LogLine{{Message: line}}}}})
		acks <- a
	}()
	testutil.WaitFor(t, 5*time.Second, "the second heartbeat to be held", func() bool {
		s.robots.reports.mu.Lock()
		defer s.robots.reports.mu.Unlock()
		return len(s.robots.reports.pending) == 1
	})
	return s, token, acks
}
