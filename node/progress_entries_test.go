package node

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
)

// TestRobotsOfANodeShareOneProgressEntryPerInterval runs jobs on a
// node's own robot and on several internet robots on its gateway at
// once: while they run, their lease renewals cost the log one entry per
// heartbeat interval in all, not one per robot, and every robot's leases
// are renewed.
func TestRobotsOfANodeShareOneProgressEntryPerInterval(t *testing.T) {
	const internetRobots, lanSlots = 4, 2
	cfg := testConfig(t, "hub", "")
	cfg.Robot, cfg.Capacity = true, lanSlots
	n := startNode(t, cfg)
	token := newToken(t, n, "")
	for i := range internetRobots {
		startInternetRobot(t, []string{quicAddr(n)}, token, fmt.Sprintf("pc-%d", i), 1)
	}
	const slow = `{"name":"slow","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"wait","type":"delay","config":{"duration":"5s"}},
	 {"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"wait"},{"from":"wait","to":"end"}]}`
	c := adminClient(t, n, n)
	ctx := context.Background()
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "slow", WorkflowJSON: json.RawMessage(slow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []api.JobRequest
	for range internetRobots {
		reqs = append(reqs, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "internet"})
	}
	for range lanSlots {
		reqs = append(reqs, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan"})
	}
	if _, err := c.SubmitJobs(ctx, reqs); err != nil {
		t.Fatal(err)
	}
	s := n.Store()
	testutil.WaitFor(t, 20*time.Second, "every robot to run a job", func() bool {
		return len(s.RunningJobs()) == internetRobots+1
	})
	before, start := s.AppliedEntries(), time.Now()
	// Three heartbeat intervals after start, every robot has renewed.
	renewedBy := start.Add(3 * consensus.HeartbeatInterval)
	testutil.WaitFor(t, 10*time.Second, "every robot's leases renewed three intervals on", func() bool {
		for _, h := range s.RunningJobs() {
			if h.StalestRenewal.Before(renewedBy) {
				return false
			}
		}
		return true
	})
	after, elapsed := s.AppliedEntries(), time.Since(start)
	entries := after["robot_reports"] - before["robot_reports"]
	t.Logf("%d robots running for %v: %d progress entries, all entries since: %v", internetRobots+1, elapsed, entries, after)
	if single := after["progress"] - before["progress"]; single != 0 {
		t.Errorf("%d single-robot progress entries", single)
	}
	if limit := uint64(elapsed/consensus.HeartbeatInterval) + 1; entries == 0 || entries > limit {
		t.Errorf("%d progress entries in %v with %d robots, want one per %v interval (at most %d)",
			entries, elapsed, internetRobots+1, consensus.HeartbeatInterval, limit)
	}
}
