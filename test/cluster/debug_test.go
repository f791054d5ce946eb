//go:build unix

package cluster

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// TestDebugRobotKilledWhilePaused SIGKILLs the robot of a debug run
// stopped at a breakpoint: the job must go back to the queue without
// showing the dead robot's stop, stop again on the other robot, and
// succeed when continued.
func TestDebugRobotKilledWhilePaused(t *testing.T) {
	c := robotCluster(t)
	ctx := t.Context()
	marker := filepath.Join(t.TempDir(), "step.txt")
	wf, err := c.leader().client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "debug-kill", TriggerType: "none",
		WorkflowJSON: workflowJSON("debug-kill", nil,
			appendLine("step1", marker, "{{ robot_id }}"), appendLine("step2", marker, "{{ robot_id }}")),
	})
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.leader().client.SubmitJob(ctx, api.JobRequest{
		WorkflowID: wf.WorkflowID, Debug: &wire.DebugRequest{Breakpoints: []string{"step2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	n1 := c.byName("n1").client // runs no robot and is never stopped
	debugState := func() (wire.DebugState, error) { return n1.JobDebug(ctx, job.ID, client.Consistent()) }

	var st wire.DebugState
	waitFor(t, settleTimeout, "the run to stop at step2", func() (bool, error) {
		if st, err = debugState(); err != nil {
			return false, err
		}
		return st.Paused != nil && st.Paused.Node == "step2", fmt.Errorf("debug state %+v", st)
	})
	robot := c.byName(st.RobotID)
	if robot == c.leader() {
		t.Fatalf("the job runs on the leader %s; this test needs it on a follower", robot.name)
	}
	robot.kill()

	waitFor(t, settleTimeout, "the job to stop again on another robot", func() (bool, error) {
		if st, err = debugState(); err != nil {
			return false, err
		}
		if st.Paused != nil && st.RobotID == robot.name {
			return false, fmt.Errorf("still shows the stop of the killed robot %s", robot.name)
		}
		if st.Paused != nil && st.JobState != "running" {
			t.Fatalf("a %s job shows a stop: %+v", st.JobState, st.Paused)
		}
		return st.Paused != nil && st.Paused.Node == "step2", fmt.Errorf("debug state %+v", st)
	})
	j, err := n1.Job(ctx, job.ID, client.Consistent())
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Attempts) < 2 {
		t.Fatalf("the job was not requeued: %s", describeJob(j))
	}
	if _, err := n1.DebugJob(ctx, job.ID, wire.DebugCommandRequest{Action: "continue"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleTimeout, "the job to succeed", func() (bool, error) {
		j, err := n1.Job(ctx, job.ID, client.Consistent())
		if err != nil {
			return false, err
		}
		return j.State == "succeeded", fmt.Errorf("job: %s", describeJob(j))
	})
	t.Logf("robot %s killed while paused; the job stopped again on %s and succeeded", robot.name, st.RobotID)
}
