package main

import (
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
)

// TestSchedulesCreateRefusesCronThatNeverFires: the CLI shows the API's
// reason for a schedule that could never fire, and nothing is stored.
func TestSchedulesCreateRefusesCronThatNeverFires(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	wf := field(t, mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL), "Workflow:")
	for cron, want := range map[string]string{"0 0 30 2 *": "never fires", "@every 0s": "at least 1s", "@every -5s": "at least 1s"} {
		_, _, err := runCLI(t, "schedules", "create", wf, "--cron", cron, "--server", node.URL)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), cron) {
			t.Errorf("schedules create --cron %q: %v, want it to say %q", cron, err, want)
		}
	}
	if list, _ := node.Store.Schedules(""); len(list) != 0 {
		t.Errorf("refused creates stored %d schedules", len(list))
	}
}
