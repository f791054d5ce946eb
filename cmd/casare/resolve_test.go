package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
)

// commonPrefix is the longest prefix a and b share.
func commonPrefix(a, b string) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return a[:n]
}

// Wherever a command takes a workflow it takes its id, its name or a
// unique prefix of its id; jobs and schedules take ids or unique
// prefixes. An ambiguous prefix lists the candidates.
func TestCommandsTakeNamesAndIDPrefixes(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	hello := writeFile(t, "hello.json", helloWorkflow)
	out := mustRun(t, "submit", hello, "--server", node.URL)
	wfID, jobID := field(t, out, "Workflow:"), field(t, out, "Job:")
	other := field(t, mustRun(t, "submit", hello, "--name", "other", "--server", node.URL), "Workflow:")

	out = mustRun(t, "workflows", "list", "--server", node.URL)
	if !regexp.MustCompile(`(?m)^` + wfID + `\s+hello\s+1\s`).MatchString(out) {
		t.Errorf("workflows list:\n%s", out)
	}
	out = mustRun(t, "jobs", "list", "--workflow", "hello", "--server", node.URL)
	if !regexp.MustCompile(`(?m)^`+jobID+`\s+`+wfID+`\s`).MatchString(out) || strings.Count(out, "\n") != 2 {
		t.Errorf("jobs list --workflow hello:\n%s", out)
	}
	if out := mustRun(t, "workflows", "get", "hello", "--server", node.URL); field(t, out, "ID:") != wfID {
		t.Errorf("workflows get hello:\n%s", out)
	}
	if out := mustRun(t, "workflows", "versions", wfID[:len(wfID)-4], "--server", node.URL); !strings.Contains(out, "VERSION") {
		t.Errorf("workflows versions by prefix:\n%s", out)
	}
	if out := mustRun(t, "jobs", "get", jobID[:len(jobID)-3], "--server", node.URL); field(t, out, "ID:") != jobID {
		t.Errorf("jobs get by prefix:\n%s", out)
	}
	sc := field(t, mustRun(t, "schedules", "create", "other", "--cron", "@daily", "--server", node.URL), "ID:")
	if out := mustRun(t, "schedules", "get", sc[:len(sc)-2], "--server", node.URL); field(t, out, "Workflow:") != other {
		t.Errorf("schedules get by prefix:\n%s", out)
	}

	ambiguous := commonPrefix(wfID, other)
	_, _, err := runCLI(t, "workflows", "get", ambiguous, "--server", node.URL)
	if ambiguous == "" || err == nil || !strings.Contains(err.Error(), "is ambiguous: it begins the ids of 2 workflows") ||
		!strings.Contains(err.Error(), wfID+"  hello") || !strings.Contains(err.Error(), other+"  other") {
		t.Errorf("workflows get %q: %v", ambiguous, err)
	}
	_, _, err = runCLI(t, "jobs", "list", "--workflow", "nosuch", "--server", node.URL)
	if err == nil || !strings.Contains(err.Error(), `list jobs: no workflow has the id, name or id prefix "nosuch"`) {
		t.Errorf("jobs list --workflow nosuch: %v", err)
	}
	_, _, err = runCLI(t, "jobs", "cancel", "zzz", "--server", node.URL)
	if err == nil || !strings.Contains(err.Error(), `cancel job: no job has the id or id prefix "zzz"`) {
		t.Errorf("jobs cancel zzz: %v", err)
	}

	mustRun(t, "jobs", "cancel", jobID, "--server", node.URL)
	if out := mustRun(t, "workflows", "delete", "hello", "--server", node.URL); strings.TrimSpace(out) != "deleted workflow "+wfID {
		t.Errorf("workflows delete hello: %q", out)
	}
	// The jobs of a deleted workflow are still listed by its full id.
	out = mustRun(t, "jobs", "list", "--workflow", wfID, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^` + jobID + `\s+` + wfID + `\s+1\s+cancelled\s`).MatchString(out) {
		t.Errorf("jobs list --workflow of a deleted workflow:\n%s", out)
	}
}

// bigWorkflow is the hello workflow padded with a description to size
// bytes.
func bigWorkflow(size int) string {
	pad := strings.Repeat("x", size-len(helloWorkflow))
	return strings.Replace(helloWorkflow, `"name":"hello",`, `"name":"big","description":"`+pad+`",`, 1)
}

// A workflow over the JSON limit is refused by submit with a pointer to
// the upload, which stores it.
func TestSubmitOverJSONLimitPointsToUpload(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	file := writeFile(t, "big.json", bigWorkflow(3<<20/2))
	_, _, err := runCLI(t, "submit", file, "--server", node.URL)
	if err == nil || !strings.Contains(err.Error(), "uploads take workflow files of up to 8 MiB") ||
		!strings.Contains(err.Error(), "casare workflows upload "+file) {
		t.Fatalf("submit of 1.5 MiB: %v", err)
	}
	out := mustRun(t, "workflows", "upload", file, "--server", node.URL)
	wfID := field(t, out, "Workflow:")
	if strings.Contains(out, "Job:") || field(t, out, "Version:") != "1" {
		t.Errorf("workflows upload:\n%s", out)
	}
	out = mustRun(t, "workflows", "upload", file, "--trigger", "manual", "--priority", "9", "--server", node.URL,
		"--tag", "sap", "--tag", "eu", "--robot", "vm-7", "--param", "month=5", "--max-attempts", "4", "--unique-key", "big-1",
		"--backoff", "3s", "--deadline", "1h")
	job, found, _ := node.Store.Job(field(t, out, "Job:"))
	if !found || job.WorkflowID != wfID || job.Priority != 9 || strings.Join(job.RobotTags, ",") != "sap,eu" ||
		job.PinnedRobot != "vm-7" || string(job.Params) != `{"month":"5"}` || job.MaxAttempts != 4 || job.UniqueKey != "big-1" ||
		time.Duration(job.Backoff) != 3*time.Second || job.Deadline.IsZero() {
		t.Errorf("upload --trigger manual queued %+v (found %v):\n%s", job, found, out)
	}
}
