package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

var testRobot = consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 1}

// robotRun is what the test robot does with the one job it claims.
type robotRun struct {
	logs []string
	done consensus.Completion // JobID and Token are filled in
}

// runOneJob acts as a robot of a robot-only node: it waits for a job
// through the internal endpoints, claims it, logs and completes it.
// Failures are sent on the returned channel, which closes when done.
func runOneJob(t *testing.T, node *apitest.Node, run robotRun) <-chan error {
	t.Helper()
	errs := make(chan error, 1)
	go func() {
		defer close(errs)
		errs <- completeOneJob(t, node, run)
	}()
	return errs
}

func completeOneJob(t *testing.T, node *apitest.Node, run robotRun) error {
	ctx, c := t.Context(), node.Peer
	if work, err := c.RobotWait(ctx, testRobot, 10*time.Second); err != nil || !work {
		return errors.Join(errors.New("no job to run"), err)
	}
	claimed, err := c.RobotClaim(ctx, testRobot)
	if err != nil || len(claimed) != 1 {
		return errors.Join(errors.New("claim"), err)
	}
	job := claimed[0].Job
	var lines []consensus.LogLine
	for _, msg := range run.logs {
		lines = append(lines, consensus.LogLine{Time: time.Now(), Level: "info", NodeID: "start", Message: msg})
	}
	if _, err := c.RobotProgress(ctx, consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{{
		JobID: job.ID, Token: job.Lease.Token, Logs: lines,
	}}}); err != nil {
		return err
	}
	done := run.done
	done.JobID, done.Token = job.ID, job.Lease.Token
	acks, err := c.RobotComplete(ctx, consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{done}})
	if err != nil || !acks[0].OK {
		return errors.Join(errors.New("complete refused"), err)
	}
	return nil
}

func checkRobot(t *testing.T, errs <-chan error) {
	t.Helper()
	if err := <-errs; err != nil {
		t.Fatalf("robot: %v", err)
	}
}

func TestSubmitWaitSucceeds(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	robot := runOneJob(t, node, robotRun{done: consensus.Completion{Succeeded: true, Result: json.RawMessage(`{"total":3}`)}})
	out := mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL, "--wait", "--timeout", "20s")
	checkRobot(t, robot)
	if field(t, out, "State:") != "succeeded" || !strings.Contains(out, "Result:\n  {\n    \"total\": 3\n  }") {
		t.Errorf("submit --wait printed:\n%s", out)
	}
}

func TestSubmitWaitExitStatus(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	file := writeFile(t, "hello.json", helloWorkflow)

	robot := runOneJob(t, node, robotRun{done: consensus.Completion{Error: "invoice 7 is unreadable", FailureKind: consensus.FailureBusiness}})
	out, _, err := runCLI(t, "submit", file, "--server", node.URL, "--wait")
	checkRobot(t, robot)
	var ex exitError
	if !errors.As(err, &ex) || ex.code != exitJobFailed || !strings.Contains(ex.msg, "failed: invoice 7 is unreadable") {
		t.Errorf("a failed job: %v", err)
	}
	if field(t, out, "State:") != "failed" || !strings.Contains(out, "business invoice 7 is unreadable") {
		t.Errorf("a failed job printed:\n%s", out)
	}

	// Nobody runs the next job: the wait times out, the job stays.
	start := time.Now()
	out, _, err = runCLI(t, "submit", file, "--server", node.URL, "--wait", "--timeout", "300ms")
	if !errors.As(err, &ex) || ex.code != exitJobTimeout || !strings.Contains(ex.msg, "still queued after 300ms") {
		t.Errorf("a wait that timed out: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("--timeout 300ms waited %v", time.Since(start))
	}
	if _, found, _ := node.Store.Job(field(t, out, "Job:")); !found {
		t.Errorf("no job was queued:\n%s", out)
	}
}
