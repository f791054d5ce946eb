//go:build linux

package cluster

import (
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// robotOnlyCutBound is how long a robot-only node's idle robot may take to
// get a job from the other servers once the server it waits on is cut
// off from them: the cut-off server knows no leader within an election
// timeout, answers the robot's wait no_leader after
// consensus.LeaderlessDismiss (checking every second), and the robot's
// next wait goes to another server, which has the job.
const robotOnlyCutBound = 20 * time.Second

// TestRobotOnlyNodeLeavesAServerCutOffFromTheCluster: a robot-only node's
// robot waits for work at the first live server by name, n1. When n1 is
// cut off from the other servers but not from the robot's node (a
// partial partition), n1 stays alive in gossip, has no leader and a
// replica that shows no new work. A job submitted on the majority must
// still reach the robot, at its first attempt, and a write through the
// node's own API (proxied to a server) must get in.
func TestRobotOnlyNodeLeavesAServerCutOffFromTheCluster(t *testing.T) {
	lab := newNetLab(t)
	c, hosts := startLabCluster(t, lab, 3, "--robot=false")
	w := c.addInLab(lab, lab.host("w1"), append(c.joinCmd(), "--server=false", "--capacity", "1"))
	w.start()
	waitRobotState(t, c, w.name, "alive", "")

	n1 := c.byName("n1")
	majority := c.without(n1, w)
	wfID := labWorkflow(t, c.leader(), "robot-only-cut", newRunsFile(t))
	cutAt := lab.cutBetween(hosts["n1"], hosts["n2"], hosts["n3"])
	job, err := majority.leader().client.SubmitJob(t.Context(), api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"})
	if err != nil {
		t.Fatal(err)
	}
	var done api.Job
	waitFor(t, 2*robotOnlyCutBound, "the job to finish on the robot-only node", func() (bool, error) {
		done, err = majority.leader().client.Job(t.Context(), job.ID, client.Consistent())
		if err != nil {
			return false, err
		}
		return done.State != "queued" && done.State != "running", fmt.Errorf("job: %s", describeJob(done))
	})
	took := time.Since(cutAt)
	t.Logf("n1 cut off from the other servers; the robot-only node's job ended %s %v later", done.State, took.Round(time.Millisecond))
	if done.State != "succeeded" || done.RobotID != w.name || done.Attempt != 1 {
		t.Errorf("the job should have succeeded on %s at its first attempt: %s", w.name, describeJob(done))
	}
	if took > robotOnlyCutBound {
		t.Errorf("the robot took %v to get its job from the other servers, want under %v", took, robotOnlyCutBound)
	}

	// The node's API, which it proxies to a server, keeps away from n1
	// too once n1 answered a write no_leader: a write through it gets in.
	tries := 0
	waitFor(t, robotOnlyCutBound, "a write through the robot-only node's API", func() (bool, error) {
		tries++
		_, err := w.client.SubmitJob(t.Context(), api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"})
		return err == nil, err
	})
	if tries > 2 {
		t.Errorf("a write through the robot-only node took %d tries; want at most 2 (one answered no_leader by n1)", tries)
	}
}
