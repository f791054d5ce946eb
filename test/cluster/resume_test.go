//go:build unix

package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// resumeWait is the delay between a resumable job's two side effects:
// long enough to act on its robot while the job sits in it.
const resumeWait = 4 * time.Second

// resumable is a job of a workflow with two marker files: step1 appends
// to the first, then the job waits, then step2 appends to the second.
// Each line names the robot and attempt that wrote it.
type resumable struct {
	c              *cluster
	workflowID     string
	jobID          string
	marker1        string
	marker2        string
	robot, rescuer *node // the robot that first runs the job and the other one
}

// robotCluster starts three servers where only n2 and n3 run robots:
// n1, the bootstrap leader, does not, so a job runs on a follower and a
// quorum survives the loss of its robot. The robots log at debug level,
// where they say what became of each report.
func robotCluster(t *testing.T) *cluster {
	t.Helper()
	c := newCluster(t)
	c.bootstrap("n1", "--robot=false")
	c.join("n2", "--log-level", "debug")
	c.join("n3", "--log-level", "debug")
	c.waitServers(3)
	return c
}

// submitResumable stores the two-marker workflow, with a lease of
// visibility unless it is zero, and queues one job of it.
func submitResumable(t *testing.T, c *cluster, visibility time.Duration) *resumable {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	r := &resumable{c: c, marker1: filepath.Join(dir, "step1.txt"), marker2: filepath.Join(dir, "step2.txt")}
	const name = "two-markers"
	const line = "{{ robot_id }} attempt {{ attempt }}"
	wf, err := c.leader().client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: name, TriggerType: "none",
		WorkflowJSON: workflowJSON(name, nil,
			appendLine("step1", r.marker1, line), delay("wait", resumeWait), appendLine("step2", r.marker2, line)),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.workflowID = wf.WorkflowID
	if visibility > 0 {
		req := api.WorkflowSettingsRequest{VisibilityTimeout: visibility.String()}
		if _, err := c.leader().client.SetWorkflowSettings(ctx, wf.WorkflowID, req); err != nil {
			t.Fatalf("set visibility timeout %v: %v", visibility, err)
		}
	}
	job, err := c.leader().client.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID})
	if err != nil {
		t.Fatal(err)
	}
	r.jobID = job.ID
	return r
}

// waitInWaitNode waits until the job sits in its wait node with its
// checkpoint after step1 in Raft, and notes which robot runs it.
func (r *resumable) waitInWaitNode(t *testing.T) {
	t.Helper()
	// The engine checkpoints a node with side effects before it starts
	// the next node, and a heartbeat carries the node status it took
	// together with any newer checkpoint: once Raft shows "wait" running,
	// it holds the checkpoint that lists step1 as completed.
	var j api.Job
	waitFor(t, settleTimeout, "the job to sit in its wait node", func() (bool, error) {
		var err error
		if j, err = r.job(); err != nil {
			return false, err
		}
		return j.State == "running" && j.NodeStatus["wait"] == "running", fmt.Errorf("job: %s, node status %v", describeJob(j), j.NodeStatus)
	})
	r.robot = r.c.byName(j.RobotID)
	r.rescuer = r.c.others(r.c.byName("n1"), r.robot)[0]
	if leader := r.c.leader(); leader == r.robot {
		t.Fatalf("the job runs on the leader %s; this test needs it on a follower", leader.name)
	}
}

// job reads the job consistently through n1, which runs no robot and is
// never stopped.
func (r *resumable) job() (api.Job, error) {
	return r.c.byName("n1").client.Job(r.c.tb.Context(), r.jobID, client.Consistent())
}

// waitRequeued waits until a second attempt has been claimed and
// returns, from the leader's timestamps, how long after from the first
// attempt ended (the requeue) and the second began (the claim).
func (r *resumable) waitRequeued(t *testing.T, from time.Time) (requeued, claimed time.Duration) {
	t.Helper()
	var j api.Job
	waitFor(t, settleTimeout, "the job to be claimed again", func() (bool, error) {
		var err error
		if j, err = r.job(); err != nil {
			return false, err
		}
		return len(j.Attempts) > 1, fmt.Errorf("job: %s", describeJob(j))
	})
	return j.Attempts[0].FinishedAt.Sub(from), j.Attempts[1].StartedAt.Sub(from)
}

// waitSucceeded waits for the job to succeed and returns it.
func (r *resumable) waitSucceeded(t *testing.T) api.Job {
	t.Helper()
	var j api.Job
	waitFor(t, settleTimeout, "the job to succeed", func() (bool, error) {
		var err error
		if j, err = r.job(); err != nil {
			return false, err
		}
		return j.State == "succeeded", fmt.Errorf("job: %s", describeJob(j))
	})
	return j
}

// checkRescued asserts that the rescuer finished the job exactly once
// after the robot lost it, and that step1 ran only on the first robot:
// the rescuer resumed from the checkpoint instead of starting over.
func (r *resumable) checkRescued(t *testing.T, j api.Job) {
	t.Helper()
	lost, won := r.robot.name, r.rescuer.name
	switch {
	case j.State != "succeeded" || j.RobotID != won:
		t.Errorf("job should have succeeded on %s: %s", won, describeJob(j))
	case len(j.Attempts) != 2 || j.Attempts[0].RobotID != lost || j.Attempts[0].Outcome == "succeeded" ||
		j.Attempts[1].RobotID != won || j.Attempts[1].Outcome != "succeeded":
		t.Errorf("attempts should be a lost one on %s and a successful one on %s: %s", lost, won, describeJob(j))
	}
	var result struct {
		RobotID string `json:"robot_id"`
	}
	if err := json.Unmarshal(j.Result, &result); err != nil || result.RobotID != won {
		t.Errorf("job result %s (%v): want the run of %s", j.Result, err, won)
	}
	step1 := readLineCounts(t, r.marker1)
	if want := map[string]int{lost + " attempt 1": 1}; !maps.Equal(step1, want) {
		t.Errorf("step1 lines %v, want %v: a resumed run must not repeat a checkpointed node", step1, want)
	}
}

// TestRobotKilledMidJobResumesFromCheckpoint crashes the robot of a job
// between its two side effects: the other robot must take the job over
// within seconds and resume after step1 instead of repeating it.
func TestRobotKilledMidJobResumesFromCheckpoint(t *testing.T) {
	r := submitResumable(t, robotCluster(t), 0)
	r.waitInWaitNode(t)
	killedAt := r.robot.kill()
	requeued, claimed := r.waitRequeued(t, killedAt)
	t.Logf("robot %s SIGKILLed mid-job: job requeued after %v, claimed by %s after %v", r.robot.name, requeued, r.rescuer.name, claimed)
	if claimed > requeueBound {
		t.Errorf("the job of SIGKILLed robot %s was claimed again after %v; gossip should requeue it well within %v", r.robot.name, claimed, requeueBound)
	}
	j := r.waitSucceeded(t)
	r.checkRescued(t, j)
	// Losing its robot spent no attempt: the rescuer runs attempt 1 again.
	if step2 := readLineCounts(t, r.marker2); !maps.Equal(step2, map[string]int{r.rescuer.name + " attempt 1": 1}) {
		t.Errorf("step2 lines %v, want one by %s's attempt 1", step2, r.rescuer.name)
	}
	t.Logf("attempt 1 ended with %q", j.Attempts[0].Error)
}

// TestLeaseExpiryWithStoppedRobot freezes the robot of a job until the
// job has been requeued and finished elsewhere, then wakes it: its late
// report must be refused and change nothing.
func TestLeaseExpiryWithStoppedRobot(t *testing.T) {
	r := submitResumable(t, robotCluster(t), 0)
	r.waitInWaitNode(t)
	pausedAt := time.Now()
	r.robot.pause()
	requeued, claimed := r.waitRequeued(t, pausedAt)
	t.Logf("robot %s SIGSTOPped mid-job: job requeued after %v, claimed by %s after %v", r.robot.name, requeued, r.rescuer.name, claimed)
	finished := r.waitSucceeded(t)

	// Woken up, the stale robot still believes it holds the job; its
	// heartbeat or its completion carries a stale fencing token and must
	// change nothing.
	r.robot.resume()
	waitStaleReportRefused(t, r.robot, r.jobID)
	j, err := r.job()
	if err != nil {
		t.Fatal(err)
	}
	r.checkRescued(t, j)
	if !j.FinishedAt.Equal(finished.FinishedAt) || len(j.Attempts) != len(finished.Attempts) {
		t.Errorf("the stale robot changed the finished job: before %s, after %s", describeJob(finished), describeJob(j))
	}
	t.Logf("attempt 1 ended with %q; step2 lines %v", j.Attempts[0].Error, readLineCounts(t, r.marker2))
}

// waitStaleReportRefused waits until robot n logs that the cluster
// refused its report on job id: a heartbeat answered "stop" or a
// completion not accepted.
func waitStaleReportRefused(t *testing.T, n *node, jobID string) {
	t.Helper()
	stopped := regexp.MustCompile(`msg="job stopped".*job=` + regexp.QuoteMeta(jobID) + `.*reason="lease lost`)
	refused := regexp.MustCompile(`msg="job reported".*job=` + regexp.QuoteMeta(jobID) + `.*accepted=false`)
	waitFor(t, settleTimeout, fmt.Sprintf("%s to be told its lease on %s is lost", n.name, jobID), func() (bool, error) {
		for line := range strings.Lines(n.logText()) {
			if stopped.MatchString(line) || refused.MatchString(line) {
				t.Logf("%s: %s", n.name, strings.TrimSpace(line))
				return true, nil
			}
		}
		return false, nil
	})
}
