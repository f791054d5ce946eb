//go:build unix

package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

const (
	exactlyOnceJobs = 300
	// jobWork is how long each job runs after its side effect, so that a
	// kill finds jobs in flight and catches some between their side
	// effect and their completion.
	jobWork = 400 * time.Millisecond
	// drainTimeout bounds running all jobs to the end, requeues included.
	drainTimeout = 3 * time.Minute
	// requeueBound separates a requeue on the gossip "dead" event (the
	// design's ~3 s) from one on lease expiry (30 s by default).
	requeueBound = 15 * time.Second
)

// TestExactlyOnceUnderRobotKill crashes a follower whose robot runs jobs.
func TestExactlyOnceUnderRobotKill(t *testing.T) {
	testExactlyOnce(t, func(c *cluster) *node { return c.follower() })
}

// TestExactlyOnceUnderLeaderKill crashes the leader, whose robot runs
// jobs too.
func TestExactlyOnceUnderLeaderKill(t *testing.T) {
	testExactlyOnce(t, func(c *cluster) *node { return c.leader() })
}

// testExactlyOnce runs exactlyOnceJobs jobs that each append their id to
// one file on three nodes with robots, SIGKILLs the node pickVictim
// chooses while its robot runs some of them, and checks DESIGN §3: every
// job succeeds exactly once, side effects run at least once, and a side
// effect runs twice only for a job the killed robot had.
func testExactlyOnce(t *testing.T, pickVictim func(*cluster) *node) {
	c := startCluster(t, 3, "--capacity", "4")
	ctx := t.Context()
	idsFile := filepath.Join(t.TempDir(), "job-ids.txt")
	const name = "append-job-id"
	wf, err := c.leader().client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: name, TriggerType: "none",
		WorkflowJSON: workflowJSON(name, nil, appendLine("append", idsFile, "{{ job_id }}"), delay("work", jobWork)),
	})
	if err != nil {
		t.Fatal(err)
	}
	submitted := submitJobs(t, c.leader(), wf.WorkflowID, exactlyOnceJobs)

	victim := pickVictim(c)
	observer := c.others(victim)[0]
	var held []string
	waitFor(t, settleTimeout, fmt.Sprintf("%s's robot to run jobs after some have finished", victim.name), func() (bool, error) {
		jobs, err := listJobs(t, observer, wf.WorkflowID, "")
		if err != nil {
			return false, err
		}
		held = held[:0]
		for _, j := range jobs {
			if j.State == "running" && j.RobotID == victim.name {
				held = append(held, j.ID)
			}
		}
		counts := countStates(jobs)
		return counts["succeeded"] >= exactlyOnceJobs/8 && len(held) >= 2, fmt.Errorf("states %v, %d on %s", counts, len(held), victim.name)
	})
	killedAt := victim.kill()
	t.Logf("SIGKILLed %s while its robot held %d jobs", victim.name, len(held))

	var jobs []api.Job
	waitFor(t, drainTimeout, "every job to finish", func() (bool, error) {
		jobs, err = listJobs(t, observer, wf.WorkflowID, "")
		if err != nil {
			return false, err
		}
		counts := countStates(jobs)
		return counts["queued"]+counts["running"] == 0 && len(jobs) == len(submitted), fmt.Errorf("states %v", counts)
	})
	succeeded, err := listJobs(t, observer, wf.WorkflowID, "succeeded")
	if err != nil {
		t.Fatal(err)
	}
	if len(succeeded) != len(submitted) {
		t.Errorf("the succeeded filter lists %d jobs, want all %d", len(succeeded), len(submitted))
	}
	checkExactlyOnce(t, jobs, submitted, idsFile, victim.name)

	requeues := requeueDelays(jobs, victim.name, killedAt)
	median, maximum := durationStats(requeues)
	t.Logf("%d jobs of %s requeued after the kill: median %v, max %v", len(requeues), victim.name, median, maximum)
	if maximum > requeueBound {
		t.Errorf("a job of SIGKILLed %s was requeued %v after the kill; gossip should do it well within %v", victim.name, maximum, requeueBound)
	}
}

// requeueDelays returns, for each attempt robot lost, how long after
// killedAt the leader ended it.
func requeueDelays(jobs []api.Job, robot string, killedAt time.Time) []time.Duration {
	var out []time.Duration
	for _, j := range jobs {
		for _, a := range j.Attempts {
			if a.RobotID == robot && a.Outcome != "succeeded" && !a.FinishedAt.IsZero() {
				out = append(out, a.FinishedAt.Sub(killedAt))
			}
		}
	}
	return out
}

// submitJobs queues n jobs of a workflow in batches and returns their ids.
func submitJobs(t *testing.T, n *node, workflowID string, count int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	const batch = 100
	for i := 0; i < count; i += batch {
		reqs := make([]api.JobRequest, min(batch, count-i))
		for k := range reqs {
			reqs[k] = api.JobRequest{WorkflowID: workflowID}
		}
		jobs, err := n.client.SubmitJobs(t.Context(), reqs, client.IdempotencyKey(fmt.Sprintf("%s-batch-%d", workflowID, i)))
		if err != nil {
			t.Fatalf("submit jobs %d–%d: %v", i, i+len(reqs)-1, err)
		}
		for _, j := range jobs {
			ids[j.ID] = true
		}
	}
	if len(ids) != count {
		t.Fatalf("submitted %d jobs, got %d distinct ids", count, len(ids))
	}
	return ids
}

// checkExactlyOnce asserts the outcome of an exactly-once run: (1) every
// job succeeded, (2) each id is in the file at least once, (3) an id is
// there more than once only if the killed robot had the job, (4) no job
// has two successful attempts, and the kill did interrupt some job.
func checkExactlyOnce(t *testing.T, jobs []api.Job, submitted map[string]bool, idsFile, killed string) {
	t.Helper()
	appends := readLineCounts(t, idsFile)
	var touched, interrupted, duplicated, retried int
	for _, j := range jobs {
		if !submitted[j.ID] {
			t.Errorf("job %s was never submitted", j.ID)
			continue
		}
		successes, onKilled, killedMidRun := 0, false, false
		for _, a := range j.Attempts {
			if a.Outcome == "succeeded" {
				successes++
			}
			if a.RobotID == killed {
				onKilled = true
				killedMidRun = killedMidRun || a.Outcome != "succeeded"
			}
		}
		if onKilled {
			touched++
		}
		if killedMidRun {
			interrupted++
		}
		if len(j.Attempts) > 1 {
			retried++
		}
		n := appends[j.ID]
		switch {
		case j.State != "succeeded":
			t.Errorf("job %s ended %s: %s", j.ID, j.State, describeJob(j))
		case successes != 1:
			t.Errorf("job %s has %d successful attempts: %s", j.ID, successes, describeJob(j))
		case n == 0:
			t.Errorf("job %s succeeded but its id is not in the file: %s", j.ID, describeJob(j))
		case n > 1 && !onKilled:
			t.Errorf("job %s appended %d times but never ran on the killed robot %s: %s", j.ID, n, killed, describeJob(j))
		case n > len(j.Attempts):
			t.Errorf("job %s appended %d times in %d attempts: %s", j.ID, n, len(j.Attempts), describeJob(j))
		}
		if n > 1 {
			duplicated++
		}
		if j.State == "succeeded" && len(j.Attempts) > 0 {
			if last := j.Attempts[len(j.Attempts)-1]; last.RobotID != j.RobotID {
				t.Errorf("job %s: robot_id %s, but its successful attempt ran on %s", j.ID, j.RobotID, last.RobotID)
			}
		}
	}
	for id := range appends {
		if !submitted[id] {
			t.Errorf("the file holds %q, which is no job's id", id)
		}
	}
	t.Logf("%d jobs: %d ran on %s, %d of them interrupted by the kill and finished elsewhere; %d jobs had more than one attempt; %d ids appended twice or more",
		len(jobs), touched, killed, interrupted, retried, duplicated)
	if interrupted == 0 {
		t.Errorf("the kill of %s interrupted no job: the test proved nothing", killed)
	}
}

// readLineCounts counts each distinct line of a file.
func readLineCounts(t *testing.T, path string) map[string]int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for line := range strings.Lines(string(data)) {
		if line = strings.TrimSpace(line); line != "" {
			counts[line]++
		}
	}
	return counts
}

func describeJob(j api.Job) string {
	var attempts []string
	for _, a := range j.Attempts {
		attempts = append(attempts, fmt.Sprintf("#%d on %s: %s %s", a.Attempt, a.RobotID, a.Outcome, a.Error))
	}
	return fmt.Sprintf("state %s, robot %s, attempt %d/%d, error %q, attempts [%s]",
		j.State, j.RobotID, j.Attempt, j.MaxAttempts, j.Error, strings.Join(attempts, "; "))
}
