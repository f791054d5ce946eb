package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
)

// TestScheduleThatCannotFireIsRefused: a cron expression that matches no
// date, or an @every interval under a second, is a 400 naming the cron
// field and the reason, on both create paths, and stores nothing.
func TestScheduleThatCannotFireIsRefused(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	for _, tc := range []struct{ cron, want string }{
		{"0 0 30 2 *", "never fires"},
		{"* * 31 2 *", "never fires"},
		{"@every 0s", "at least 1s"},
		{"@every -5s", "at least 1s"},
	} {
		resp := postJSON(t, node.URL+"/api/v1/schedules", fmt.Sprintf(`{"workflow_id":%q,"cron":%q,"misfire":"skip"}`, wf, tc.cron))
		if resp.status != http.StatusBadRequest {
			t.Errorf("schedule %q: %d %s", tc.cron, resp.status, resp.body)
			continue
		}
		if e := resp.apiError(t); e.Code != "invalid" || !strings.Contains(e.Message, tc.want) || !strings.Contains(string(e.Details), `"cron"`) {
			t.Errorf("schedule %q: %+v", tc.cron, e)
		}
		resp = postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{"trigger_type": "scheduled", "cron": tc.cron}))
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), tc.want) {
			t.Errorf("scheduled workflow %q: %d %s", tc.cron, resp.status, resp.body)
		}
	}
	if list, _ := node.Store.Schedules(""); len(list) != 0 {
		t.Errorf("refused creates stored %d schedules", len(list))
	}
}
