package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

// waitingReason reads a job as GET /api/v1/jobs/{id} shows it.
func waitingReason(t *testing.T, node *apitest.Node, id string) string {
	t.Helper()
	var job api.Job
	resp := get(t, node.URL+"/api/v1/jobs/"+id)
	if resp.status != http.StatusOK {
		t.Fatalf("get job %s: %d %s", id, resp.status, resp.body)
	}
	resp.decode(t, &job)
	return job.WaitingReason
}

// A queued job that no robot can take says why, from the robots and
// flags of the moment; one that a robot can take says nothing.
func TestJobSaysWhyItWaits(t *testing.T) {
	t.Parallel()
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.Members = func() []api.Member {
			return []api.Member{
				{Name: "n1", State: "alive", Roles: []string{"server", "robot"}, Tags: []string{"sap"}, Capacity: 2},
				{Name: "gone", State: "dead", Roles: []string{"robot"}},
			}
		}
	}})
	node.WaitLeaderKnown(t, 10*time.Second)
	wf := newWorkflow(t, node)
	later := time.Now().Add(time.Hour).UTC().Truncate(time.Second)

	cases := []struct{ body, want string }{
		{`{"workflow_id":%q}`, ""},
		{`{"workflow_id":%q,"pinned_robot":"ghost"}`, "no robot named ghost"},
		{`{"workflow_id":%q,"pinned_robot":"gone"}`, "pinned robot gone is dead"},
		{`{"workflow_id":%q,"pinned_robot":"n1","execution_mode":"internet"}`, "pinned robot n1 is a lan robot, not in pool internet"},
		{`{"workflow_id":%q,"execution_mode":"internet"}`, "no robot in pool internet"},
		{`{"workflow_id":%q,"robot_tags":["sap","gpu"]}`, "no robot with tags sap,gpu in pool any"},
		{`{"workflow_id":%q,"not_before":"` + later.Format(time.RFC3339) + `"}`, "not before " + later.Format(time.RFC3339)},
	}
	ids := make([]string, len(cases))
	for i, c := range cases {
		ids[i] = submit(t, node, fmt.Sprintf(c.body, wf)).ID
	}
	for i, c := range cases {
		if got := waitingReason(t, node, ids[i]); got != c.want {
			t.Errorf("%s: waiting_reason %q, want %q", c.body, got, c.want)
		}
	}

	running := runningJob(t, node, wf)
	if got := waitingReason(t, node, running); got != "" {
		t.Errorf("running job: waiting_reason %q", got)
	}
	resp := send(t, http.MethodPut, node.URL+"/api/v1/workflows/"+wf+"/settings", "application/json", []byte(`{"max_concurrency":1}`))
	if resp.status != http.StatusOK {
		t.Fatalf("settings: %d %s", resp.status, resp.body)
	}
	if got := waitingReason(t, node, ids[0]); got != "workflow hello is at its max_concurrency (1 running)" {
		t.Errorf("full workflow: waiting_reason %q", got)
	}
	if resp := postJSON(t, node.URL+"/api/v1/workflows/"+wf+"/pause", ``); resp.status != http.StatusNoContent {
		t.Fatalf("pause workflow: %d %s", resp.status, resp.body)
	}
	if got := waitingReason(t, node, ids[0]); got != "workflow hello paused" {
		t.Errorf("paused workflow: waiting_reason %q", got)
	}
	if resp := postJSON(t, node.URL+"/api/v1/queue/pause", ``); resp.status != http.StatusNoContent {
		t.Fatalf("pause queue: %d %s", resp.status, resp.body)
	}
	if got := waitingReason(t, node, ids[1]); got != "queue paused (casare queue resume)" {
		t.Errorf("paused queue: waiting_reason %q", got)
	}

}
