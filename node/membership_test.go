package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(timeout); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
	}
}

func inConfiguration(t *testing.T, n *Node, name string) bool {
	t.Helper()
	srvs, err := n.Store().Servers()
	if err != nil {
		t.Fatal(err)
	}
	return slices.ContainsFunc(srvs, func(s consensus.Server) bool { return s.Name == name })
}

// TestRemovedServerRejoins removes a running server from the Raft
// configuration, as the leader does after a long cut. The server notices
// it is no longer a member, answers its readers 503 not_member rather
// than from its stale replica, rejoins under its own name, and serves the
// data written while it was out once it has caught up.
func TestRemovedServerRejoins(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	startNode(t, testConfig(t, "n2", n1.HTTPAddr()))
	n3 := startNode(t, testConfig(t, "n3", n1.HTTPAddr()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c1, c3 := client.New("http://"+n1.HTTPAddr()), client.New("http://"+n3.HTTPAddr())
	wf, err := c1.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}

	if _, err := n1.Store().RemoveServer(ctx, consensus.RemoveRequest{Name: "n3"}); err != nil {
		t.Fatalf("remove n3: %v", err)
	}
	removedAt := time.Now()
	job, err := c1.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan", PinnedRobot: "n1"})
	if err != nil {
		t.Fatal(err)
	}

	// Until n3 is back, every answer it gives about the new job is either
	// the job itself or 503 not_member, never a stale "not found".
	var notMember int
	waitUntil(t, 30*time.Second, "n3 serves the job written while it was removed", func() bool {
		got, err := c3.Job(ctx, job.ID)
		var ae *client.APIError
		switch {
		case err == nil:
			return got.ID == job.ID
		case errors.As(err, &ae) && ae.Code == consensus.CodeNotMember:
			notMember++
			return false
		case errors.As(err, &ae) && ae.Code == consensus.CodeNotFound:
			t.Fatalf("n3 answered not_found for a job acknowledged %v after its removal", time.Since(removedAt))
		}
		return false
	})
	t.Logf("n3 served the job %v after its removal (%d not_member answers seen meanwhile)", time.Since(removedAt).Round(time.Millisecond), notMember)
	if n3.removals.Load() == 0 {
		t.Fatal("n3 never found itself outside the configuration")
	}
	waitUntil(t, 10*time.Second, "n3 is in the leader's configuration again", func() bool { return inConfiguration(t, n1, "n3") })
	waitUntil(t, 10*time.Second, "n3 counts itself a member again", func() bool { return !n3.notMember.Load() })
	if ready, err := c3.Ready(ctx); err != nil || !ready {
		t.Fatalf("n3 ready after rejoining: %v, %v", ready, err)
	}
}

// TestNoLeaderAnswersFast: a server whose peers are gone, once it knows
// it has no leader, answers a write with 503 no_leader and a Retry-After
// header within about an election timeout, not after the 15 s apply
// timeout.
func TestNoLeaderAnswersFast(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	n2 := startNode(t, testConfig(t, "n2", n1.HTTPAddr()))
	n3 := startNode(t, testConfig(t, "n3", n1.HTTPAddr()))
	c3 := client.New("http://" + n3.HTTPAddr())
	wf, err := c3.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	cut := time.Now()
	n1.Close()
	n2.Close()
	waitUntil(t, 10*time.Second, "n3 knows it has no leader", func() bool { return n3.Store().LeaderName() == "" })
	t.Logf("n3 knew it had no leader %v after its peers began to stop", time.Since(cut).Round(time.Millisecond))

	body, _ := json.Marshal(api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan"})
	start := time.Now()
	resp, err := http.Post("http://"+n3.HTTPAddr()+"/api/v1/jobs", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var env api.ErrorResponse
	json.Unmarshal(raw, &env)
	if resp.StatusCode != http.StatusServiceUnavailable || env.Error.Code != consensus.CodeNoLeader || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("write with both peers gone: %d %s Retry-After %q, want 503 no_leader with Retry-After",
			resp.StatusCode, raw, resp.Header.Get("Retry-After"))
	}
	if took > 3*time.Second {
		t.Fatalf("write with both peers gone answered after %v, want under 3 s", took)
	}
	t.Logf("write with both peers gone: 503 %s after %v", env.Error.Code, took.Round(time.Millisecond))
}
