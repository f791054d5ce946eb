package node

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
)

// TestInternetRobotResentLinesAreLoggedOnce: the numbers of an internet
// robot's log lines cross the QUIC gateway, so a heartbeat it sends again
// after losing the answer, and a completion that repeats lines, add each
// line to the job's log once.
func TestInternetRobotResentLinesAreLoggedOnce(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false // only the tunnel's calls touch the job
	n := startNode(t, cfg)
	q := robotQueue(t, []string{quicAddr(n)}, newToken(t, n, ""), tunnel.Hello{Name: "laptop-8", Capacity: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := q.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	s := n.Store()
	if _, err := s.PutWorkflow(ctx, consensus.PutWorkflowCmd{ID: "w", Name: "echo", Graph: []byte(echoWorkflow),
		Jobs: []consensus.JobSpec{{ID: "J", WorkflowID: "w", ExecutionMode: consensus.RobotInternet}}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := q.Claim(ctx, consensus.ClaimCmd{Max: 1, RequestID: "c1"})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	token := claimed[0].Job.Lease.Token
	line := func(msg string) consensus.LogLine { return consensus.LogLine{Level: "info", Message: msg} }
	beat := consensus.ProgressCmd{Items: []consensus.Progress{{JobID: "J", Token: token, Logs: []consensus.LogLine{line("a"), line("b")}, LogsEnd: 2}}}
	for range 2 {
		if acks, err := q.Progress(ctx, beat); err != nil || len(acks) != 1 || !acks[0].OK {
			t.Fatalf("heartbeat: %+v, %v", acks, err)
		}
	}
	done := consensus.CompleteCmd{Items: []consensus.Completion{{JobID: "J", Token: token, Succeeded: true,
		Logs: []consensus.LogLine{line("b"), line("c")}, LogsEnd: 3}}}
	if acks, err := q.Complete(ctx, done); err != nil || len(acks) != 1 || !acks[0].OK {
		t.Fatalf("completion: %+v, %v", acks, err)
	}
	job, _, _ := s.Job("J")
	var got []string
	for _, l := range job.Logs {
		got = append(got, l.Message)
	}
	if strings.Join(got, " ") != "a b c" {
		t.Fatalf("J logged %q, want a, b, c once each", got)
	}
}
