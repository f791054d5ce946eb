package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
)

func TestQueueCommands(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	out := mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL, "--priority", "8")
	wf := field(t, out, "Workflow:")
	claimable := func() bool { return node.Store.HasClaimable(testRobot, time.Now()) }

	out = mustRun(t, "queue", "--server", node.URL)
	if field(t, out, "Paused:") != "no" || !regexp.MustCompile(`(?m)^queued\s+1$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^8\s+1$`).MatchString(out) || !strings.Contains(out, " ago (") {
		t.Errorf("queue:\n%s", out)
	}

	steps := []struct {
		args      []string
		printed   string
		claimable bool
	}{
		{[]string{"queue", "pause"}, "queue paused", false},
		{[]string{"queue", "resume"}, "queue resumed", true},
		{[]string{"queue", "pause", "--workflow", wf}, "queue of workflow " + wf + " paused", false},
		{[]string{"queue", "resume", "--workflow", wf}, "queue of workflow " + wf + " resumed", true},
	}
	for _, step := range steps {
		out := mustRun(t, append(step.args, "--server", node.URL)...)
		if strings.TrimSpace(out) != step.printed || claimable() != step.claimable {
			t.Errorf("casare %s: %q, claimable %v", strings.Join(step.args, " "), out, claimable())
		}
	}

	out = mustRun(t, "queue", "settings", wf, "--max-concurrency", "2", "--visibility-timeout", "45s", "--server", node.URL)
	if field(t, out, "Max concurrency:") != "2" || field(t, out, "Visibility timeout:") != "45s" {
		t.Errorf("queue settings:\n%s", out)
	}
	_, _, err := runCLI(t, "queue", "settings", wf, "--max-concurrency", "-1", "--server", node.URL)
	if err == nil || !strings.Contains(err.Error(), "max_concurrency") {
		t.Errorf("negative max concurrency: %v", err)
	}
}
