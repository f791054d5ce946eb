package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

func TestScheduleCommands(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	wf := field(t, mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL), "Workflow:")

	out := mustRun(t, "schedules", "create", wf, "--cron", "*/5 * * * *", "--timezone", "Europe/Berlin",
		"--overlap", "forbid", "--misfire", "skip", "--priority", "7", "--param", "region=eu", "--server", node.URL)
	id := field(t, out, "ID:")
	if field(t, out, "Timezone:") != "Europe/Berlin" || field(t, out, "Enabled:") != "yes" || field(t, out, "Overlap:") != "forbid" ||
		!strings.Contains(out, `priority 7, mode any, 3 attempts, params {"region":"eu"}`) {
		t.Errorf("schedules create:\n%s", out)
	}

	out = mustRun(t, "schedules", "list", "--workflow", wf, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^` + id + `\s+` + wf + `\s+\*/5 \* \* \* \*\s+Europe/Berlin\s+yes\s+\d`).MatchString(out) {
		t.Errorf("schedules list:\n%s", out)
	}

	out = mustRun(t, "schedules", "trigger", id, "--server", node.URL)
	jobID := regexp.MustCompile(`^schedule ` + id + ` queued job (\S+)\n$`).FindStringSubmatch(out)
	if jobID == nil {
		t.Fatalf("schedules trigger: %q", out)
	}
	if job, found, _ := node.Store.Job(jobID[1]); !found || job.ScheduleID != id || job.Priority != 7 {
		t.Errorf("triggered job %+v", job)
	}
	out = mustRun(t, "schedules", "get", id, "--server", node.URL)
	if !regexp.MustCompile(`(?m)^FIRE TIME\s+JOB\s+SKIPPED\s+MANUAL\n.*` + jobID[1] + `\s+-\s+yes$`).MatchString(out) {
		t.Errorf("schedules get shows no history:\n%s", out)
	}

	if out := mustRun(t, "schedules", "disable", id, "--server", node.URL); strings.TrimSpace(out) != "schedule "+id+" disabled" {
		t.Errorf("schedules disable: %q", out)
	}
	if sc, _, _ := node.Store.Schedule(id); sc.Enabled {
		t.Error("disable left the schedule enabled")
	}
	if out := mustRun(t, "schedules", "enable", id, "--server", node.URL); !strings.HasPrefix(out, "schedule "+id+" enabled; next run 20") {
		t.Errorf("schedules enable: %q", out)
	}
	out = mustRun(t, "schedules", "get", id, "-o", "json", "--server", node.URL)
	var sc api.Schedule
	if err := json.Unmarshal([]byte(out), &sc); err != nil || !sc.Enabled || sc.NextRun.IsZero() {
		t.Errorf("schedules get -o json: %v\n%s", err, out)
	}
	if out := mustRun(t, "schedules", "delete", id, "--server", node.URL); strings.TrimSpace(out) != "deleted schedule "+id {
		t.Errorf("schedules delete: %q", out)
	}
	if _, found, _ := node.Store.Schedule(id); found {
		t.Error("the schedule outlived its deletion")
	}

	for _, bad := range []struct{ flag, value, want string }{
		{"--cron", "61 * * * *", `cron "61 * * * *"`},
		{"--timezone", "Mars/Olympus", "timezone"},
		{"--misfire", "sometimes", "misfire"},
	} {
		args := []string{"schedules", "create", wf, "--cron", "@daily", bad.flag, bad.value, "--server", node.URL}
		if _, _, err := runCLI(t, args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("schedules create %s %q: %v, want it to name %s", bad.flag, bad.value, err, bad.want)
		}
	}
	if _, _, err := runCLI(t, "schedules", "create", wf, "--server", node.URL); err == nil || !strings.Contains(err.Error(), `"cron" not set`) {
		t.Errorf("schedules create without --cron: %v", err)
	}
	if list, _ := node.Store.Schedules(""); len(list) != 0 {
		t.Errorf("refused creates stored %d schedules", len(list))
	}
}
