package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

// newWorkflow stores the hello workflow without queueing a job.
func newWorkflow(t *testing.T, node *apitest.Node) string {
	t.Helper()
	var created api.CreateWorkflowResponse
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{"trigger_type": "none"})).decode(t, &created)
	return created.WorkflowID
}

func TestSubmitJob(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)

	resp := postJSON(t, node.URL+"/api/v1/jobs", fmt.Sprintf(`{"workflow_id":%q,"priority":9,"execution_mode":"internet",
		"params":{"invoice":42},"robot_tags":["sap"],"pinned_robot":"r1","unique_key":"inv-42","max_attempts":5,
		"not_before":"2030-01-01T00:00:00Z","deadline":"2030-01-02T00:00:00+02:00"}`, wf))
	if resp.status != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var job api.Job
	resp.decode(t, &job)
	if job.WorkflowID != wf || job.WorkflowVersion != 1 || job.State != "queued" || job.Priority != 9 ||
		job.ExecutionMode != "internet" || string(job.Params) != `{"invoice":42}` || job.PinnedRobot != "r1" ||
		job.MaxAttempts != 5 || job.NotBefore.Year() != 2030 || job.Deadline.Hour() != 22 || job.CreatedAt.IsZero() {
		t.Errorf("job %+v", job)
	}
	for _, field := range []string{`"robot_id":""`, `"attempt":0`, `"params":{`, `"updated_at":`} {
		if !strings.Contains(string(resp.body), field) {
			t.Errorf("job JSON lacks %s: %s", field, resp.body)
		}
	}

	// The same unique key names the same job.
	var again api.Job
	postJSON(t, node.URL+"/api/v1/jobs", fmt.Sprintf(`{"workflow_id":%q,"unique_key":"inv-42"}`, wf)).decode(t, &again)
	if again.ID != job.ID {
		t.Errorf("unique key inv-42 queued a second job %s besides %s", again.ID, job.ID)
	}

	var defaults api.Job
	postJSON(t, node.URL+"/api/v1/jobs", fmt.Sprintf(`{"workflow_id":%q}`, wf)).decode(t, &defaults)
	if defaults.Priority != 5 || defaults.ExecutionMode != "any" || string(defaults.Params) != `{}` {
		t.Errorf("defaults: priority %d, mode %q, params %s", defaults.Priority, defaults.ExecutionMode, defaults.Params)
	}
}

func TestBatchIsOneEntry(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	var reqs []string
	for i := range 50 {
		reqs = append(reqs, fmt.Sprintf(`{"workflow_id":%q,"priority":%d}`, wf, i%10))
	}
	before := node.Store.AppliedIndex()
	resp := postJSON(t, node.URL+"/api/v1/jobs/batch", `{"jobs":[`+strings.Join(reqs, ",")+`]}`)
	if resp.status != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var batch api.BatchJobsResponse
	resp.decode(t, &batch)
	if len(batch.Jobs) != 50 || batch.Jobs[13].Priority != 3 {
		t.Fatalf("batch answered %d jobs", len(batch.Jobs))
	}
	if after := node.Store.AppliedIndex(); after != before+1 {
		t.Errorf("batch took %d Raft entries, want 1", after-before)
	}
}

func TestListJobsPages(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	other := newWorkflow(t, node) // the same graph: the same workflow
	if other != wf {
		t.Fatalf("same name and graph made a second workflow")
	}
	var ids []string
	for range 5 {
		var job api.Job
		postJSON(t, node.URL+"/api/v1/jobs", fmt.Sprintf(`{"workflow_id":%q}`, wf)).decode(t, &job)
		ids = append(ids, job.ID)
	}
	postJSON(t, node.URL+"/api/v1/jobs/"+ids[0]+"/cancel", `{"reason":"changed my mind"}`)

	var seen []string
	query := url.Values{"limit": {"2"}, "workflow_id": {wf}}
	for page := 0; ; page++ {
		resp := get(t, node.URL+"/api/v1/jobs?"+query.Encode())
		var list api.JobList
		resp.decode(t, &list)
		if list.AppliedIndex == 0 || resp.header.Get("X-Casare-Applied-Index") == "" {
			t.Errorf("page %d carries no applied index", page)
		}
		for _, j := range list.Jobs {
			seen = append(seen, j.ID)
		}
		if list.NextCursor == nil {
			if !strings.Contains(string(resp.body), `"next_cursor":null`) {
				t.Errorf("last page: %s", resp.body)
			}
			break
		}
		query.Set("cursor", *list.NextCursor)
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if strings.Join(seen, ",") != strings.Join(want, ",") {
		t.Errorf("pages listed %v, want newest first %v", seen, want)
	}

	var cancelled api.JobList
	get(t, node.URL+"/api/v1/jobs?state=cancelled").decode(t, &cancelled)
	if len(cancelled.Jobs) != 1 || cancelled.Jobs[0].ID != ids[0] || cancelled.Jobs[0].Error != "changed my mind" {
		t.Errorf("cancelled jobs %+v", cancelled.Jobs)
	}
	var none api.JobList
	resp := get(t, node.URL+"/api/v1/jobs?workflow_id=nothing")
	resp.decode(t, &none)
	if none.Jobs == nil || !strings.Contains(string(resp.body), `"jobs":[]`) {
		t.Errorf("empty list renders as %s", resp.body)
	}
}

func TestCancelJob(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	var created api.CreateWorkflowResponse
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, nil)).decode(t, &created)

	for range 2 { // a repeated cancel answers the same
		resp := postJSON(t, node.URL+"/api/v1/jobs/"+created.JobID+"/cancel", ``)
		var job api.Job
		resp.decode(t, &job)
		if resp.status != http.StatusOK || job.State != "cancelled" || job.FinishedAt.IsZero() {
			t.Errorf("cancel: %d %s", resp.status, resp.body)
		}
	}
	resp := get(t, node.URL+"/api/v1/jobs/"+created.JobID+"?consistent=true")
	var job api.Job
	resp.decode(t, &job)
	if job.State != "cancelled" || resp.header.Get("X-Casare-Applied-Index") == "" {
		t.Errorf("job after cancel: %s", resp.body)
	}
}

// A running job that is cancelled closes its attempt: the attempt shows
// when it ended and that it was cancelled, not "running" for ever.
func TestCancelRunningJobEndsItsAttempt(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	id := runningJob(t, node, newWorkflow(t, node))

	resp := postJSON(t, node.URL+"/api/v1/jobs/"+id+"/cancel", `{"reason":"wrong invoice"}`)
	var job api.Job
	resp.decode(t, &job)
	if resp.status != http.StatusOK || job.State != "cancelled" || len(job.Attempts) != 1 {
		t.Fatalf("cancel: %d %s", resp.status, resp.body)
	}
	a := job.Attempts[0]
	if a.Outcome != "cancelled" || a.FinishedAt.IsZero() || !a.FinishedAt.Equal(job.FinishedAt) || a.Error != "wrong invoice" {
		t.Errorf("cancelled attempt %+v; job finished at %s", a, job.FinishedAt)
	}
}

// Deleting a workflow with force cancels its running jobs the same way:
// their attempts end, cancelled, with the reason.
func TestForcedDeleteEndsRunningAttempts(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	id := runningJob(t, node, wf)
	if resp := send(t, http.MethodDelete, node.URL+"/api/v1/workflows/"+wf+"?force=true", "", nil); resp.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.status, resp.body)
	}
	job, found, _ := node.Store.Job(id)
	if !found || job.State != "cancelled" || len(job.Attempts) != 1 {
		t.Fatalf("job after delete: %+v", job)
	}
	if a := job.Attempts[0]; a.Outcome != "cancelled" || a.FinishedAt.IsZero() || a.Error != "workflow deleted" {
		t.Errorf("attempt after delete: %+v", a)
	}
}
