package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// claimWithProgress claims the next job as robot r1 and reports a
// checkpoint and log lines for it, as a robot mid-run does.
func claimWithProgress(t *testing.T, node *apitest.Node, checkpoint string, logs ...string) consensus.Job {
	t.Helper()
	claimed, err := node.Peer.RobotClaim(t.Context(), testRobot)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	job := claimed[0].Job
	var lines []consensus.LogLine
	for _, msg := range logs {
		lines = append(lines, consensus.LogLine{Time: time.Now(), Level: "info", NodeID: "start", Message: msg})
	}
	acks, err := node.Peer.RobotProgress(t.Context(), consensus.ProgressCmd{RobotID: testRobot.RobotID, Items: []consensus.Progress{{
		JobID: job.ID, Token: job.Lease.Token, Checkpoint: json.RawMessage(checkpoint), Logs: lines,
		NodeStatus: map[string]string{"start": "succeeded", "wait": "running"},
	}}})
	if err != nil || len(acks) != 1 || !acks[0].OK {
		t.Fatalf("progress: %v %v", acks, err)
	}
	return job
}

// jobs get shows what the README promises: the checkpoint and the last
// log lines; and a cancelled attempt ends there.
func TestJobsGetShowsCheckpointLogsAndCancelledAttempt(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL)
	job := claimWithProgress(t, node, `{"completed":["start"],"variables":{"invoices":3}}`, "opening portal", "3 invoices")

	out := mustRun(t, "jobs", "get", job.ID, "--server", node.URL)
	for _, want := range []string{"Checkpoint:\n  {\n    \"completed\": [\n      \"start\"\n    ],", "\"invoices\": 3",
		"Last log lines:\n  ", "INFO  [start] opening portal\n", "INFO  [start] 3 invoices\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("jobs get lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^Attempt 1:\s+running on r1, since \S+ \S+$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Nodes:\s+start succeeded, wait running$`).MatchString(out) {
		t.Errorf("running attempt:\n%s", out)
	}

	mustRun(t, "jobs", "cancel", job.ID, "--server", node.URL, "--reason", "wrong month")
	out = mustRun(t, "jobs", "get", job.ID, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^Attempt 1:\s+cancelled: wrong month on r1, \S+ \S+ to \S+ \S+$`).MatchString(out) {
		t.Errorf("cancelled attempt:\n%s", out)
	}
}

// The job options of the README are flags of submit, and jobs get says
// why a job waits and which robot it is pinned to.
func TestSubmitJobOptionsAndWaitingReason(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	file := writeFile(t, "hello.json", helloWorkflow)
	before := time.Now()
	out := mustRun(t, "submit", file, "--server", node.URL, "--unique-key", "inv-42", "--not-before", "1h",
		"--deadline", "2030-01-02T15:04:05Z", "--max-attempts", "5", "--backoff", "30s", "--tag", "sap", "--tag", "eu",
		"--robot", "ghost", "--priority", "8", "--mode", "lan")
	jobID := field(t, out, "Job:")
	job, found, _ := node.Store.Job(jobID)
	if !found || job.UniqueKey != "inv-42" || job.MaxAttempts != 5 || time.Duration(job.Backoff) != 30*time.Second ||
		strings.Join(job.RobotTags, ",") != "sap,eu" || job.PinnedRobot != "ghost" || job.Priority != 8 || job.ExecutionMode != "lan" ||
		job.Deadline.Year() != 2030 || job.NotBefore.Before(before.Add(59*time.Minute)) || job.NotBefore.After(time.Now().Add(time.Hour)) {
		t.Fatalf("queued job %+v", job)
	}
	again := mustRun(t, "submit", file, "--server", node.URL, "--unique-key", "inv-42")
	if field(t, again, "Job:") != jobID {
		t.Errorf("the same unique key queued a second job:\n%s", again)
	}

	out = mustRun(t, "jobs", "get", jobID, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^Waiting:\s+not before 20`).MatchString(out) || field(t, out, "Pinned robot:") != "ghost" ||
		field(t, out, "Robot tags:") != "sap,eu" || field(t, out, "Unique key:") != "inv-42" {
		t.Errorf("jobs get:\n%s", out)
	}
	pinned := field(t, mustRun(t, "submit", file, "--server", node.URL, "--robot", "ghost"), "Job:")
	if out := mustRun(t, "jobs", "get", pinned, "--server", node.URL); !regexp.MustCompile(`(?m)^Waiting:\s+no robot named ghost$`).MatchString(out) {
		t.Errorf("a job pinned to a robot that does not exist:\n%s", out)
	}

	for _, bad := range [][]string{{"--not-before", "tomorrow"}, {"--deadline", "-5m"}} {
		_, _, err := runCLI(t, "submit", file, "--server", node.URL, bad[0], bad[1])
		if err == nil || !strings.Contains(err.Error(), bad[0]+` "`+bad[1]+`": want an RFC 3339 time`) {
			t.Errorf("submit %s %s: %v", bad[0], bad[1], err)
		}
	}
}
