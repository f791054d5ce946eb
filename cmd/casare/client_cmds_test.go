package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

const helloWorkflow = `{"name":"hello","nodes":[{"id":"start","type":"start"},{"id":"done","type":"end"}],"connections":[{"from":"start","to":"done"}]}`

// runCLI runs the casare command line in-process and returns what it
// printed. Unless the test set CASARE_TOKEN itself, the command
// authenticates as the test cluster's admin.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	if os.Getenv("CASARE_TOKEN") == "" {
		t.Setenv("CASARE_TOKEN", apitest.AdminToken)
	}
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// mustRun runs the command line and fails the test if it fails.
func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := runCLI(t, args...)
	if err != nil {
		t.Fatalf("casare %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// field returns the value after label in key-value output.
func field(t *testing.T, out, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(label) + `\s+(\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q in output:\n%s", label, out)
	}
	return m[1]
}

func TestSubmitThenInspect(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	file := writeFile(t, "invoice.json", helloWorkflow)

	out := mustRun(t, "submit", file, "--server", node.URL, "--mode", "lan", "--priority", "7",
		"--param", "customer=acme", "--param", "retries:=3", "--name", "invoices")
	wfID, jobID := field(t, out, "Workflow:"), field(t, out, "Job:")
	if field(t, out, "Version:") != "1" || !strings.Contains(out, "(invoices)") {
		t.Errorf("submit printed:\n%s", out)
	}

	job, found, _ := node.Store.Job(jobID)
	if !found || job.Priority != 7 || job.ExecutionMode != "lan" || string(job.Params) != `{"customer":"acme","retries":3}` {
		t.Fatalf("queued job %+v (found %v)", job, found)
	}

	out = mustRun(t, "workflows", "--server", node.URL)
	if !regexp.MustCompile(`(?m)^ID\s+NAME\s+VERSION\s+UPDATED\s+TAGS$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^`+wfID+`\s+invoices\s+1\s`).MatchString(out) {
		t.Errorf("workflows table:\n%s", out)
	}
	out = mustRun(t, "workflows", "get", wfID, "--server", node.URL)
	if field(t, out, "Name:") != "invoices" || !strings.Contains(out, `"type": "start"`) {
		t.Errorf("workflows get:\n%s", out)
	}
	out = mustRun(t, "workflows", "versions", wfID, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^1\s+[0-9a-f]{12}\s`).MatchString(out) {
		t.Errorf("workflows versions:\n%s", out)
	}

	out = mustRun(t, "jobs", "list", "--server", node.URL, "--state", "queued", "--workflow", wfID)
	if !regexp.MustCompile(`(?m)^` + jobID + `\s+` + wfID + `\s+1\s+queued\s+7\s+lan\s+0\s+-\s`).MatchString(out) {
		t.Errorf("jobs list:\n%s", out)
	}
	out = mustRun(t, "jobs", "get", jobID, "--server", node.URL)
	if field(t, out, "State:") != "queued" || field(t, out, "Params:") != `{"customer":"acme","retries":3}` {
		t.Errorf("jobs get:\n%s", out)
	}
	out = mustRun(t, "jobs", "get", jobID, "--server", node.URL, "--output", "json")
	var j api.Job
	if err := json.Unmarshal([]byte(out), &j); err != nil || j.ID != jobID {
		t.Errorf("jobs get --output json: %v\n%s", err, out)
	}

	out = mustRun(t, "jobs", "cancel", jobID, "--server", node.URL, "--reason", "test over")
	if strings.TrimSpace(out) != "job "+jobID+" is cancelled" {
		t.Errorf("jobs cancel: %q", out)
	}
	out = mustRun(t, "workflows", "delete", wfID, "--server", node.URL)
	if strings.TrimSpace(out) != "deleted workflow "+wfID {
		t.Errorf("workflows delete: %q", out)
	}
}

func TestJobsListPages(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	file := writeFile(t, "hello.json", helloWorkflow)
	for range 3 {
		mustRun(t, "submit", file, "--server", node.URL)
	}
	out, errOut, err := runCLI(t, "jobs", "list", "--server", node.URL, "--limit", "2")
	if err != nil || strings.Count(out, "queued") != 2 {
		t.Fatalf("first page: %v\n%s", err, out)
	}
	cursor := regexp.MustCompile(`--cursor (\S+)`).FindStringSubmatch(errOut)
	if cursor == nil {
		t.Fatalf("no cursor on stderr: %q", errOut)
	}
	out, errOut, err = runCLI(t, "jobs", "list", "--server", node.URL, "--limit", "2", "--cursor", cursor[1])
	if err != nil || strings.Count(out, "queued") != 1 || errOut != "" {
		t.Errorf("second page: %v\n%s\n%s", err, out, errOut)
	}
}

func TestStatus(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	out := mustRun(t, "status", "--server", node.URL)
	if field(t, out, "Leader:") != "n1" || field(t, out, "Raft state:") != "Leader," ||
		!regexp.MustCompile(`(?m)^n1\s+127\.0\.0\.1:\d+\s+127\.0\.0\.1:\d+\s+yes\s+no\s+\*$`).MatchString(out) {
		t.Errorf("status:\n%s", out)
	}
	out = mustRun(t, "status", "--server", node.URL, "-o", "json")
	var c api.Cluster
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Node != "n1" || len(c.Servers) != 1 {
		t.Errorf("status --output json: %v\n%s", err, out)
	}
}

func TestServerFromEnvironment(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	t.Setenv("CASARE_SERVER", node.URL)
	if out := mustRun(t, "status"); field(t, out, "Node:") != "n1" {
		t.Errorf("status via CASARE_SERVER:\n%s", out)
	}
}

func TestClientCommandErrors(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown job", []string{"jobs", "get", "nope", "--server", node.URL}, []string{`get job: no job has the id or id prefix "nope"`}},
		{"invalid workflow", []string{"submit", writeFile(t, "bad.json", `{"name":"bad","nodes":[{"id":"start","type":"start"},{"id":"x","type":"teleport"}],"connections":[{"from":"start","to":"x"}]}`), "--server", node.URL},
			[]string{"workflow_json is not a valid workflow", `node x: type: unknown node type "teleport"`}},
		{"not JSON", []string{"submit", writeFile(t, "broken.json", `{"name":`), "--server", node.URL}, []string{"broken.json is not a workflow JSON object"}},
		{"bad priority", []string{"submit", writeFile(t, "p.json", helloWorkflow), "--priority", "12", "--server", node.URL}, []string{"priority: must be between 0 and 9"}},
		{"bad param", []string{"submit", writeFile(t, "q.json", helloWorkflow), "--param", "novalue", "--server", node.URL}, []string{`--param "novalue"`}},
		{"bad state", []string{"jobs", "list", "--state", "sleeping", "--server", node.URL}, []string{"state: must be queued"}},
		{"bad output", []string{"workflows", "--output", "yaml", "--server", node.URL}, []string{`--output "yaml"`}},
		{"unreachable", []string{"status", "--server", "http://127.0.0.1:1"}, []string{"cannot reach the Casare API at http://127.0.0.1:1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runCLI(t, tc.args...)
			if err == nil {
				t.Fatal("command succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if counts, _ := node.Store.JobCounts(); len(counts) != 0 {
		t.Errorf("failed commands queued jobs: %v", counts)
	}
}
