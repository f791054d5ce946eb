//go:build unix

package cluster

import (
	"fmt"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// A job whose runs kill their robot's process is run twice, not more: the
// robot notes each run in its data dir before it starts and, when it comes
// back, reports the run it died in; the second crash makes the job dead
// with that reason. The server keeps serving, and the robot, restarted,
// runs other work.
//
// n1 is a server without a robot; n2 is a robot-only member, so its crash
// reports also travel the robot's remote path to the server.
func TestJobThatKillsItsRobotTwiceIsDead(t *testing.T) {
	c := newCluster(t)
	n1 := c.bootstrap("n1", "--robot=false")
	n2 := c.join("n2", "--server=false")
	ctx := t.Context()

	killer := workflowJSON("robot-killer", nil, step{id: "kill", typ: "shell",
		config: map[string]any{"command": "kill -9 $PPID; sleep 30"}})
	wf, err := n1.client.CreateWorkflow(ctx, api.CreateWorkflowRequest{WorkflowName: "robot-killer", TriggerType: "none", WorkflowJSON: killer})
	if err != nil {
		t.Fatal(err)
	}
	// More attempts than crashes allow: the crash rule, not max_attempts,
	// must end the job.
	attempts := 5
	job, err := n1.client.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, MaxAttempts: &attempts})
	if err != nil {
		t.Fatal(err)
	}
	for crash := 1; crash <= 2; crash++ {
		state := n2.waitExit(settleTimeout)
		t.Logf("crash %d: n2 exited (%v)", crash, state)
		n2.restart()
	}

	var j api.Job
	waitFor(t, settleTimeout, "the job to be dead after two crashes", func() (bool, error) {
		j, err = n1.client.Job(ctx, job.ID, client.Consistent())
		if err != nil {
			return false, err
		}
		return j.State == "dead", fmt.Errorf("job: %s", describeJob(j))
	})
	if !strings.Contains(j.Error, "killed their robot's process 2 times") {
		t.Errorf("dead job's error %q does not say why", j.Error)
	}
	crashed := 0
	for _, a := range j.Attempts {
		if a.Outcome == "crashed" {
			crashed++
		}
	}
	if crashed != 2 || len(j.Attempts) != 2 {
		t.Errorf("attempts: %s; want exactly two, both crashed", describeJob(j))
	}

	// The robot is back and runs other work; the job did not kill it again.
	ok := workflowJSON("harmless", nil, step{id: "log", typ: "log", config: map[string]any{"message": "fine"}})
	wf2, err := n1.client.CreateWorkflow(ctx, api.CreateWorkflowRequest{WorkflowName: "harmless", TriggerType: "manual", WorkflowJSON: ok})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleTimeout, "a harmless job to succeed on the restarted robot", func() (bool, error) {
		j, err := n1.client.Job(ctx, wf2.JobID, client.Consistent())
		if err != nil {
			return false, err
		}
		return j.State == "succeeded", fmt.Errorf("job: %s", describeJob(j))
	})
	if !n2.running() {
		t.Fatal("the robot died a third time")
	}
	if _, err := n1.client.Ready(ctx); err != nil {
		t.Fatalf("the server stopped serving: %v", err)
	}
}
