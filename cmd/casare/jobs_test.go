package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

func TestJobLogsAndRerun(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	robot := runOneJob(t, node, robotRun{logs: []string{"opening portal", "3 invoices"}, done: consensus.Completion{Succeeded: true}})

	// Follow the job from before it runs to its end.
	type result struct {
		out, errOut string
		err         error
	}
	followed := make(chan result, 1)
	out := mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL)
	jobID := field(t, out, "Job:")
	go func() {
		out, errOut, err := runCLI(t, "jobs", "logs", jobID, "--follow", "--server", node.URL)
		followed <- result{out, errOut, err}
	}()
	checkRobot(t, robot)
	var f result
	select {
	case f = <-followed:
	case <-time.After(10 * time.Second):
		t.Fatal("jobs logs --follow did not end with the job")
	}
	line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO  \[start\] opening portal\n.* 3 invoices\n$`)
	if f.err != nil || !line.MatchString(f.out) || strings.TrimSpace(f.errOut) != "job "+jobID+" succeeded" {
		t.Errorf("jobs logs --follow: %v\nstdout %q\nstderr %q", f.err, f.out, f.errOut)
	}

	if out := mustRun(t, "jobs", "logs", jobID, "--server", node.URL); out != f.out {
		t.Errorf("jobs logs printed %q, the follower %q", out, f.out)
	}
	if out := mustRun(t, "jobs", "logs", jobID, "--offset", "1", "--server", node.URL); !strings.HasSuffix(out, "3 invoices\n") || strings.Contains(out, "portal") {
		t.Errorf("jobs logs --offset 1: %q", out)
	}
	out = mustRun(t, "jobs", "get", jobID, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^Attempt 1:\s+succeeded on r1, \S+ \S+ to \S+ \S+$`).MatchString(out) || !strings.Contains(out, "INFO  [start] 3 invoices") {
		t.Errorf("jobs get shows no attempts:\n%s", out)
	}

	out = mustRun(t, "jobs", "rerun", jobID, "--latest", "--server", node.URL)
	rerun := field(t, out, "Job:")
	if field(t, out, "Re-run of:") != jobID || rerun == jobID {
		t.Errorf("jobs rerun:\n%s", out)
	}
	if job, found, _ := node.Store.Job(rerun); !found || job.State != consensus.JobQueued || job.RerunOf != jobID {
		t.Errorf("re-run job %+v", job)
	}
	if _, _, err := runCLI(t, "jobs", "rerun", rerun, "--server", node.URL); err == nil || !strings.Contains(err.Error(), "only a finished job can be re-run") {
		t.Errorf("re-run of a queued job: %v", err)
	}
}
