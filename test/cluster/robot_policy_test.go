//go:build unix

package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// TestRobotsRunOnlyWhatTheirOwnersAllow runs a node whose LAN robot
// denies shell and keeps file nodes in one directory, and a `casare robot
// connect` process that allows only file_write and log in another: jobs
// that need more fail at once, as business failures naming the rule,
// without a retry and without touching anything outside the roots.
func TestRobotsRunOnlyWhatTheirOwnersAllow(t *testing.T) {
	base := t.TempDir()
	lanRoot, netRoot, outside := filepath.Join(base, "lan"), filepath.Join(base, "net"), filepath.Join(base, "outside")
	for _, d := range []string{lanRoot, netRoot, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c := startCluster(t, 1, "--deny-node-types", "shell", "--file-root", lanRoot)
	n1 := c.all()[0]
	token, _ := createRobotToken(t, n1, "pc-1")
	startProcess(t, "pc-1", "robot", "connect", quicAddr(t, n1), "--token", token, "--name", "pc-1",
		"--allow-node-types", "file_write,log", "--file-root", netRoot, "--work-dir", netRoot)
	waitRobotState(t, c, "pc-1", "alive", "")

	shell := step{id: "sh", typ: "shell", config: map[string]any{"command": "touch " + filepath.Join(outside, "shell-ran")}}
	for _, tc := range []struct {
		name, mode string
		steps      []step
		state      string
		want       string
	}{
		{"lan shell", "lan", []step{shell}, "failed", "its deny-node-types list names shell"},
		{"lan write outside", "lan", []step{appendLine("w", filepath.Join(outside, "lan.txt"), "x")}, "failed", "outside the robot's file root " + lanRoot},
		{"lan write inside", "lan", []step{appendLine("w", filepath.Join(lanRoot, "ok.txt"), "x")}, "succeeded", ""},
		{"internet shell", "internet", []step{shell}, "failed", "its allow-node-types list is file_write,log"},
		{"internet dot dot", "internet", []step{appendLine("w", "../outside/net.txt", "x")}, "failed", "outside the robot's file root " + netRoot},
		{"internet write inside", "internet", []step{appendLine("w", "ok.txt", "x")}, "succeeded", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			res, err := c.leader().client.CreateWorkflow(t.Context(), api.CreateWorkflowRequest{
				WorkflowName: name, WorkflowJSON: workflowJSON(name, nil, tc.steps...), ExecutionMode: tc.mode,
			})
			if err != nil {
				t.Fatal(err)
			}
			var job api.Job
			waitFor(t, settleTimeout, "job "+tc.state, func() (bool, error) {
				job, err = c.leader().client.Job(t.Context(), res.JobID, client.Consistent())
				if err != nil {
					return false, err
				}
				return job.State == tc.state, fmt.Errorf("job: %s", describeJob(job))
			})
			if tc.want == "" {
				return
			}
			if job.FailureKind != "business" || !strings.Contains(job.Error, tc.want) || len(job.Attempts) != 1 {
				t.Fatalf("job %s: want one attempt failed as business naming %q", describeJob(job), tc.want)
			}
			t.Logf("%s: %s", tc.name, job.Error)
		})
	}
	entries, err := os.ReadDir(outside)
	if err != nil || len(entries) != 0 {
		t.Fatalf("something was written outside the robots' roots: %v %v", entries, err)
	}
}
