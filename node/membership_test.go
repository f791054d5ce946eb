package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
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
	startNode(t, joinConfig(t, "n2", n1))
	n3 := startNode(t, joinConfig(t, "n3", n1))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c1, c3 := adminClient(t, n1, n1), adminClient(t, n3, n1)
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

// TestRestartedRemovedServerRejoins: a server is removed while it is
// down, so it does not apply its removal, and comes back with its old
// state and no seed to rejoin through: the way a server cut off past the
// grace finds itself when the link heals. No leader contacts it; it asks
// the servers its replica knows, learns from the leader that it is out
// (or from its own configuration, if its removal reached it first),
// rejoins, and serves the data written meanwhile.
func TestRestartedRemovedServerRejoins(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	startNode(t, joinConfig(t, "n2", n1))
	cfg3 := joinConfig(t, "n3", n1)
	n3 := startNode(t, cfg3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c1 := adminClient(t, n1, n1)
	wf, err := c1.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "n3 has the workflow", func() bool {
		_, ok, _ := n3.Store().Workflow(wf.WorkflowID)
		return ok
	})
	// A snapshot lets the restarted n3 know its peers' addresses before
	// any leader contacts it, as a running server cut off by the network
	// knows them.
	if err := n3.Store().Snapshot(); err != nil {
		t.Fatal(err)
	}
	n3.Close()
	if _, err := n1.Store().RemoveServer(ctx, consensus.RemoveRequest{Name: "n3"}); err != nil {
		t.Fatalf("remove n3: %v", err)
	}
	job, err := c1.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan", PinnedRobot: "n1"})
	if err != nil {
		t.Fatal(err)
	}

	// No seed and no remembered gossip peers: only the Raft configuration
	// it kept says who the other servers are.
	if err := os.Remove(newPeerFile(cfg3.DataDir).path); err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	cfg3.Join = ""
	n3 = startNode(t, cfg3)
	c3 := adminClient(t, n3, n1)
	waitUntil(t, 30*time.Second, "the restarted n3 serves the job written while it was out", func() bool {
		got, err := c3.Job(ctx, job.ID)
		return err == nil && got.ID == job.ID
	})
	if n3.removals.Load() == 0 {
		t.Fatal("the restarted n3 never found itself outside the configuration")
	}
	if !inConfiguration(t, n1, "n3") {
		t.Fatal("n3 serves again but is not in the leader's configuration")
	}
	waitUntil(t, 10*time.Second, "the rejoined n3 to be registered with its log format", func() bool {
		for _, info := range n1.Store().Nodes() {
			if info.Name == "n3" {
				return info.LogFormat == consensus.LogFormat
			}
		}
		return false
	})
}

// TestNoLeaderAnswersFast: a server whose peers are gone, once it knows
// it has no leader, answers a write with 503 no_leader and a Retry-After
// header within about an election timeout, not after the 15 s apply
// timeout.
func TestNoLeaderAnswersFast(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	n2 := startNode(t, joinConfig(t, "n2", n1))
	n3 := startNode(t, joinConfig(t, "n3", n1))
	c3 := adminClient(t, n3, n1)
	wf, err := c3.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	token := adminToken(t, n1)
	cut := time.Now()
	n1.Close()
	n2.Close()
	waitUntil(t, 10*time.Second, "n3 knows it has no leader", func() bool { return n3.Store().LeaderName() == "" })
	t.Logf("n3 knew it had no leader %v after its peers began to stop", time.Since(cut).Round(time.Millisecond))

	body, _ := json.Marshal(api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan"})
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, "http://"+n3.HTTPAddr()+"/api/v1/jobs", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
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
