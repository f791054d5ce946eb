package api_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

// TestRobotEndpointsRunAJob drives a job through the internal robot
// endpoints as a robot-only node would: wait, claim, heartbeat, complete.
func TestRobotEndpointsRunAJob(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	c := node.Client
	wf := newWorkflow(t, node)

	start := time.Now()
	work, err := node.Peer.RobotWait(ctx, lanRobot, 300*time.Millisecond)
	if err != nil || work || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("wait on an empty queue: work %v after %v, %v", work, time.Since(start), err)
	}
	// A job submitted while the robot waits ends the wait at once.
	go func() {
		time.Sleep(100 * time.Millisecond)
		node.Store.SubmitJobs(t.Context(), []consensus.JobSpec{{ID: "j1", WorkflowID: wf, Priority: 5, ExecutionMode: "lan"}})
	}()
	start = time.Now()
	work, err = node.Peer.RobotWait(ctx, lanRobot, 10*time.Second)
	if err != nil || !work || time.Since(start) > 5*time.Second {
		t.Fatalf("wait for a submitted job: work %v after %v, %v", work, time.Since(start), err)
	}

	claimed, err := node.Peer.RobotClaim(ctx, lanRobot)
	if err != nil || len(claimed) != 1 || claimed[0].Job.ID != "j1" || !strings.Contains(string(claimed[0].Graph), `"start"`) {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	lease := *claimed[0].Job.Lease
	time.Sleep(10 * time.Millisecond)
	acks, err := node.Peer.RobotProgress(ctx, consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{{JobID: "j1", Token: lease.Token}}})
	if err != nil || len(acks) != 1 || !acks[0].OK || !acks[0].Deadline.After(lease.ExpiresAt) {
		t.Fatalf("heartbeat did not extend the lease past %v: %+v, %v", lease.ExpiresAt, acks, err)
	}

	// A report with another token is stale: it stops the robot and
	// changes nothing.
	stale := consensus.CompleteCmd{RobotID: "r2", Items: []consensus.Completion{{JobID: "j1", Token: lease.Token - 1, Succeeded: true}}}
	acks, err = node.Peer.RobotComplete(ctx, stale)
	if err != nil || len(acks) != 1 || acks[0].OK || !acks[0].Stop || !strings.Contains(acks[0].Reason, "stale") {
		t.Fatalf("stale completion: %+v, %v", acks, err)
	}
	if job, _, _ := node.Store.Job("j1"); job.State != consensus.JobRunning {
		t.Fatalf("a stale completion moved the job to %s", job.State)
	}

	done := consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{{
		JobID: "j1", Token: lease.Token, Succeeded: true, Result: []byte(`{"total":3}`),
	}}}
	acks, err = node.Peer.RobotComplete(ctx, done)
	if err != nil || len(acks) != 1 || !acks[0].OK || acks[0].State != consensus.JobSucceeded {
		t.Fatalf("completion: %+v, %v", acks, err)
	}
	job, err := c.Job(ctx, "j1")
	if err != nil || job.State != "succeeded" || string(job.Result) != `{"total":3}` {
		t.Errorf("completed job: %+v, %v", job, err)
	}
	// The attempt is over: even its own token no longer counts.
	acks, err = node.Peer.RobotComplete(ctx, done)
	if err != nil || acks[0].OK {
		t.Errorf("second completion of the same attempt: %+v, %v", acks, err)
	}
	claimed, err = node.Peer.RobotClaim(ctx, lanRobot)
	if err != nil || claimed == nil || len(claimed) != 0 {
		t.Errorf("claim on an empty queue: %#v, %v", claimed, err)
	}
}

func TestRobotWaitSeesJobsDueByTime(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	// Round(0) drops the monotonic reading: the node compares wall clocks.
	due := time.Now().Add(400 * time.Millisecond).Round(0)
	submit(t, node, fmt.Sprintf(`{"workflow_id":%q,"not_before":%q}`, wf, due.UTC().Format(time.RFC3339Nano)))

	// No entry is applied when not_before passes: only the re-check
	// finds the job. The wait is judged against the due time, not the
	// submit's answer, which a loaded machine can delay by a good part
	// of the 400 ms.
	work, err := node.Peer.RobotWait(t.Context(), lanRobot, 5*time.Second)
	if err != nil || !work {
		t.Fatalf("wait: %v, %v", work, err)
	}
	if found := time.Since(due); found < 0 || found > 2*time.Second {
		t.Errorf("the job was found %v after it was due, want between 0 and 2s", found)
	}
}

// TestRobotEndpointsRecordResentLinesOnce: a robot-only node numbers its
// robot's log lines in the query; a heartbeat sent again after its answer
// was lost, and a completion carrying lines a heartbeat recorded, add
// each line once, while unnumbered reports add every line as before.
func TestRobotEndpointsRecordResentLinesOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	if _, err := node.Store.SubmitJobs(ctx, []consensus.JobSpec{{ID: "j1", WorkflowID: wf, ExecutionMode: "lan"}}); err != nil {
		t.Fatal(err)
	}
	claimed, err := node.Peer.RobotClaim(ctx, lanRobot)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %+v, %v", claimed, err)
	}
	token := claimed[0].Job.Lease.Token
	line := func(msg string) consensus.LogLine { return consensus.LogLine{Level: "info", Message: msg} }
	beat := consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{
		{JobID: "j1", Token: token, Logs: []consensus.LogLine{line("a"), line("b")}, LogsEnd: 2}}}
	for range 2 {
		if acks, err := node.Peer.RobotProgress(ctx, beat); err != nil || !acks[0].OK {
			t.Fatalf("heartbeat: %+v, %v", acks, err)
		}
	}
	old := consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{{JobID: "j1", Token: token, Logs: []consensus.LogLine{line("x")}}}}
	for range 2 {
		if acks, err := node.Peer.RobotProgress(ctx, old); err != nil || !acks[0].OK {
			t.Fatalf("unnumbered heartbeat: %+v, %v", acks, err)
		}
	}
	done := consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{
		{JobID: "j1", Token: token, Succeeded: true, Logs: []consensus.LogLine{line("b"), line("c")}, LogsEnd: 3}}}
	if acks, err := node.Peer.RobotComplete(ctx, done); err != nil || !acks[0].OK {
		t.Fatalf("completion: %+v, %v", acks, err)
	}
	job, _, _ := node.Store.Job("j1")
	var got []string
	for _, l := range job.Logs {
		got = append(got, l.Message)
	}
	if want := "a b x x c"; strings.Join(got, " ") != want {
		t.Fatalf("j1 logged %q, want %q", got, want)
	}
}

// A robot-only node's long poll at a node that has known no leader for
// consensus.LeaderlessDismiss is answered no_leader, so that its robot
// asks another server; before that the wait is held as usual.
func TestRobotWaitOnALeaderlessNodeSendsTheRobotAway(t *testing.T) {
	t.Parallel()
	lonely := apitest.Start(t, apitest.Config{Name: "lonely"}) // never bootstrapped: no leader
	ctx := t.Context()
	start := time.Now()
	work, err := lonely.Peer.RobotWait(ctx, lanRobot, 20*time.Second)
	waited := time.Since(start)
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != consensus.CodeNoLeader || work {
		t.Fatalf("wait at a leaderless node: work %v, err %v; want no_leader", work, err)
	}
	if waited < consensus.LeaderlessDismiss-time.Second || waited > consensus.LeaderlessDismiss+5*time.Second {
		t.Errorf("the wait was answered after %v; want about %v", waited, consensus.LeaderlessDismiss)
	}
	start = time.Now()
	if _, err := lonely.Peer.RobotWait(ctx, lanRobot, 20*time.Second); !errors.As(err, &apiErr) || apiErr.Code != consensus.CodeNoLeader {
		t.Fatalf("the next wait: %v; want no_leader", err)
	}
	if again := time.Since(start); again > time.Second {
		t.Errorf("the next wait was answered after %v; want at once", again)
	}
}
