package node

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
)

// idleWindow is how long an idle fleet is watched for Raft entries: a
// few heartbeat intervals, robot.WorkPoll many times over.
const idleWindow = 3 * consensus.HeartbeatInterval

// startFleetHub starts a server whose own LAN robot is on, a robot-only
// node (a LAN robot that reaches the queue over HTTP) and internet
// robots with one slot each, and waits until the cluster lists them all.
func startFleetHub(t *testing.T, internet int) (*Node, *client.Client, string) {
	t.Helper()
	hub := startNode(t, testConfig(t, "hub", ""))
	cfg := joinConfig(t, "worker", hub)
	cfg.Server = false
	startNode(t, cfg)
	token := newToken(t, hub, "")
	for i := range internet {
		startInternetRobot(t, []string{quicAddr(hub)}, token, fmt.Sprintf("pc-%02d", i), 1)
	}
	testutil.WaitFor(t, 20*time.Second, "every internet robot recorded as connected", func() bool {
		connected := 0
		for _, r := range hub.Store().Robots() {
			if r.Connected {
				connected++
			}
		}
		return connected == internet
	})
	c := adminClient(t, hub, hub)
	wf, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	return hub, c, wf.WorkflowID
}

// runJobs submits one job per mode and waits for each to succeed.
func runJobs(t *testing.T, c *client.Client, wfID string, modes ...string) {
	t.Helper()
	var reqs []api.JobRequest
	for _, m := range modes {
		req := api.JobRequest{WorkflowID: wfID, ExecutionMode: m}
		if m == consensus.RobotLAN {
			req.PinnedRobot = "worker" // the robot that goes over HTTP
		}
		reqs = append(reqs, req)
	}
	jobs, err := c.SubmitJobs(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		waitJob(t, c, j.ID, "succeeded", 30*time.Second)
	}
}

// TestIdleFleetWritesNoRaftEntries: once LAN robots (local and over
// HTTP) and internet robots have run their jobs and sit idle, their
// heartbeats, status and waits for work write nothing to the log.
func TestIdleFleetWritesNoRaftEntries(t *testing.T) {
	hub, c, wfID := startFleetHub(t, 10)
	runJobs(t, c, wfID, consensus.RobotLAN, consensus.RobotLAN, consensus.RobotInternet, consensus.RobotInternet, consensus.ModeAny)
	// The last completion's entry is applied before the job reads as
	// succeeded; nothing the fleet does may follow it.
	// The counts are read first and last, so that they hold every entry
	// the index moved past.
	counts := hub.Store().AppliedEntries()
	before := hub.Store().AppliedIndex()
	time.Sleep(idleWindow) // the measured window, not a synchronisation
	if after := hub.Store().AppliedIndex(); after != before {
		t.Fatalf("the idle fleet wrote %d Raft entries in %v (applied index %d → %d): %s",
			after-before, idleWindow, before, after, entriesSince(counts, hub.Store().AppliedEntries(), after-before))
	}
}

// entriesSince names the commands applied between two readings of
// Store.AppliedEntries, so that a failure says which part wrote; of
// entries, those not named are Raft's own (configuration changes).
func entriesSince(before, after map[string]uint64, entries uint64) string {
	var names []string
	var named uint64
	for command, n := range after {
		if d := n - before[command]; d > 0 {
			names = append(names, fmt.Sprintf("%s ×%d", command, d))
			named += d
		}
	}
	slices.Sort(names)
	if entries > named {
		names = append(names, fmt.Sprintf("%d not commands", entries-named))
	}
	return strings.Join(names, ", ")
}

// TestOneJobWakesOneInternetClaim: a job for twenty idle internet robots
// wakes one of them, so it costs its submit, one claim and one
// completion (and perhaps a heartbeat), not a claim per robot.
func TestOneJobWakesOneInternetClaim(t *testing.T) {
	const robots, jobs = 20, 3
	hub, c, wfID := startFleetHub(t, robots)
	for range jobs {
		before := hub.Store().AppliedIndex()
		runJobs(t, c, wfID, consensus.RobotInternet)
		// A claim sent in vain would be applied within the window.
		time.Sleep(100 * time.Millisecond)
		if entries := hub.Store().AppliedIndex() - before; entries > 4 {
			t.Fatalf("one internet job among %d idle robots cost %d Raft entries, want at most 4", robots, entries)
		}
	}
}
