package node

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/internal/testutil"
)

const debugWorkflow = `{"name":"dbg","nodes":[
 {"id":"start","type":"start"},
 {"id":"a","type":"set_variable","config":{"name":"a","value":"first"}},
 {"id":"b","type":"set_variable","config":{"name":"b","value":"{{ a }}-second"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"a"},{"from":"a","to":"b"},{"from":"b","to":"end"}]}`

// debugCluster is a server with a robot and a second server without
// one: the page's peer is not the robot's.
func debugCluster(t *testing.T) (robotNode, other *Node, c *client.Client) {
	t.Helper()
	robotNode = startNode(t, testConfig(t, "robot1", ""))
	cfg := joinConfig(t, "peer2", robotNode)
	cfg.Robot = false
	other = startNode(t, cfg)
	return robotNode, other, adminClient(t, other, robotNode)
}

func submitDebugJob(t *testing.T, c *client.Client, mode, visibility string, dbg wire.DebugRequest) string {
	t.Helper()
	ctx := context.Background()
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "dbg", WorkflowJSON: json.RawMessage(debugWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	if visibility != "" {
		if _, err := c.SetWorkflowSettings(ctx, wf.WorkflowID, wire.WorkflowSettingsRequest{VisibilityTimeout: visibility}); err != nil {
			t.Fatal(err)
		}
	}
	job, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: mode, Debug: &dbg})
	if err != nil {
		t.Fatal(err)
	}
	return job.ID
}

// waitPaused waits until the job's run is stopped at node as stop number
// stop, as c's node's replica shows it.
func waitPaused(t *testing.T, c *client.Client, id, node string, stop uint64) wire.DebugState {
	t.Helper()
	var st wire.DebugState
	testutil.Eventually(t, 20*time.Second, fmt.Sprintf("job %s to pause at %s", id, node), func() (bool, error) {
		var err error
		if st, err = c.JobDebug(context.Background(), id); err != nil {
			return false, err
		}
		if st.Paused == nil || st.Paused.Node != node || st.Paused.Stop != stop {
			return false, fmt.Errorf("debug state %+v", st)
		}
		return true, nil
	})
	return st
}

func TestDebugPausesAtBreakpointStepsAndContinues(t *testing.T) {
	_, _, c := debugCluster(t)
	ctx := context.Background()
	// A one-second lease: the run stays paused for several of them.
	id := submitDebugJob(t, c, "lan", "1s", wire.DebugRequest{Breakpoints: []string{"b"}})

	st := waitPaused(t, c, id, "b", 1)
	var vars map[string]any
	if err := json.Unmarshal(st.Paused.Variables, &vars); err != nil {
		t.Fatal(err)
	}
	if vars["a"] != "first" || vars["b"] != nil || st.Paused.Reason != "breakpoint" || st.RobotID != "robot1" || st.PauseTimeout != "10m0s" {
		t.Fatalf("paused at b with %+v, variables %v", st, vars)
	}
	if len(st.Paused.CallStack) != 0 {
		t.Fatalf("call stack at a top-level node: %+v", st.Paused.CallStack)
	}

	// Paused for three visibility timeouts, the job keeps its first
	// attempt and lease: the robot's heartbeats go on.
	pausedAt := time.Now()
	testutil.Eventually(t, 10*time.Second, "three lease lengths to pass while paused", func() (bool, error) {
		job, err := c.Job(ctx, id)
		if err != nil {
			return false, err
		}
		if job.State != "running" || job.Attempt != 1 {
			t.Fatalf("paused job is %s, attempt %d (%s)", job.State, job.Attempt, job.Error)
		}
		return time.Since(pausedAt) > 3*time.Second, nil
	})
	if st := waitPaused(t, c, id, "b", 1); st.Paused == nil {
		t.Fatal("no longer paused")
	}

	// Not a debug command: refused, nothing changes.
	if _, err := c.DebugJob(ctx, id, wire.DebugCommandRequest{Action: "jump"}); err == nil {
		t.Fatal("action jump accepted")
	}
	if _, err := c.DebugJob(ctx, id, wire.DebugCommandRequest{Action: "step"}); err != nil {
		t.Fatal(err)
	}
	st = waitPaused(t, c, id, "end", 2)
	if err := json.Unmarshal(st.Paused.Variables, &vars); err != nil {
		t.Fatal(err)
	}
	if vars["b"] != "first-second" || st.Paused.Reason != "step" {
		t.Fatalf("after step: %+v, variables %v", st.Paused, vars)
	}
	if _, err := c.DebugJob(ctx, id, wire.DebugCommandRequest{Action: "continue"}); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, id, "succeeded", 20*time.Second)
	if job.Attempt != 1 {
		t.Fatalf("debug job took %d attempts", job.Attempt)
	}
	st, err := c.JobDebug(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Paused != nil {
		t.Fatalf("a finished job still shows a stop: %+v", st.Paused)
	}
	// A finished job takes no command.
	if _, err := c.DebugJob(ctx, id, wire.DebugCommandRequest{Action: "continue"}); err == nil {
		t.Fatal("command for a finished job accepted")
	}
}

func TestDebugPauseTimesOutAndTheRunGoesOn(t *testing.T) {
	_, _, c := debugCluster(t)
	id := submitDebugJob(t, c, "lan", "", wire.DebugRequest{Breakpoints: []string{"a", "b"}, PauseTimeout: "1s"})
	waitPaused(t, c, id, "a", 1)
	// Nobody answers: after a second the run goes on, and does not stop
	// at the second breakpoint.
	waitJob(t, c, id, "succeeded", 20*time.Second)
	st, err := c.JobDebug(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Paused != nil || st.Detached == "" {
		t.Fatalf("after the pause timeout: %+v", st)
	}
	t.Logf("detached: %s", st.Detached)
}

func TestDebugOptionsAreChecked(t *testing.T) {
	_, _, c := debugCluster(t)
	ctx := context.Background()
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "dbg", WorkflowJSON: json.RawMessage(debugWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, dbg := range []wire.DebugRequest{{PauseTimeout: "100h"}, {PauseTimeout: "10ms"}, {PauseTimeout: "soon"}, {Breakpoints: []string{""}}} {
		if _, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, Debug: &dbg}); err == nil {
			t.Errorf("debug options %+v accepted", dbg)
		}
	}
	job, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobDebug(ctx, job.ID); err == nil {
		t.Error("a job without debug options shows a debug session")
	}
}

// TestDebugInternetRobotThroughAnotherNode debugs a run on an internet
// robot connected to node C from node A's API: stops and commands travel
// over the robot's QUIC tunnel in its heartbeats and their answers.
func TestDebugInternetRobotThroughAnotherNode(t *testing.T) {
	cfgA := testConfig(t, "a", "")
	cfgA.Robot = false
	a := startNode(t, cfgA)
	cfgC := joinConfig(t, "c", a)
	cfgC.Robot = false
	nodeC := startNode(t, cfgC)
	startInternetRobot(t, []string{quicAddr(nodeC)}, newToken(t, a, ""), "laptop-9", 1)
	c := adminClient(t, a, a)
	ctx := context.Background()

	id := submitDebugJob(t, c, "internet", "", wire.DebugRequest{Breakpoints: []string{"b"}})
	st := waitPaused(t, c, id, "b", 1)
	if st.RobotID != "laptop-9" {
		t.Fatalf("paused on %q, want the internet robot", st.RobotID)
	}
	if _, err := c.DebugJob(ctx, id, wire.DebugCommandRequest{Action: "step"}); err != nil {
		t.Fatal(err)
	}
	waitPaused(t, c, id, "end", 2)
	if _, err := c.DebugJob(ctx, id, wire.DebugCommandRequest{Action: "continue"}); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, id, "succeeded", 20*time.Second)
	if job.RobotID != "laptop-9" {
		t.Fatalf("job ran on %q", job.RobotID)
	}
}
