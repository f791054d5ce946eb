package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

func TestCreateWorkflowQueuesJobInOneEntry(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	before := node.Store.AppliedIndex()

	resp := postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{
		"priority": 7, "execution_mode": "lan", "params": map[string]any{"b": 2, "a": 1.50},
		"tags": []string{"finance"}, "robot_tags": []string{"windows"},
	}))
	if resp.status != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var created api.CreateWorkflowResponse
	resp.decode(t, &created)
	if created.WorkflowID == "" || created.Version != 1 || !created.Created || created.JobID == "" {
		t.Fatalf("response %+v", created)
	}
	if after := node.Store.AppliedIndex(); after != before+1 {
		t.Errorf("workflow and job took %d Raft entries, want 1", after-before)
	}
	job, found, _ := node.Store.Job(created.JobID)
	if !found {
		t.Fatalf("job %s not in the store", created.JobID)
	}
	if job.WorkflowID != created.WorkflowID || job.WorkflowVersion != 1 || job.Priority != 7 ||
		job.ExecutionMode != "lan" || job.State != consensus.JobQueued || string(job.Params) != `{"a":1.5,"b":2}` {
		t.Errorf("queued job %+v", job)
	}
	wf, _, _ := node.Store.Workflow(created.WorkflowID)
	if wf.Name != "hello" || len(wf.Tags) != 1 || wf.Tags[0] != "finance" {
		t.Errorf("stored workflow %+v", wf)
	}
}

func TestEqualGraphsShareAVersion(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	create := func(graph string) api.CreateWorkflowResponse {
		t.Helper()
		resp := postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{
			"workflow_json": json.RawMessage(graph), "trigger_type": "none",
		}))
		if resp.status != http.StatusCreated {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		var out api.CreateWorkflowResponse
		resp.decode(t, &out)
		if out.JobID != "" {
			t.Errorf("trigger none queued job %s", out.JobID)
		}
		return out
	}
	first := create(helloWorkflow)
	reordered := create(`{ "connections": [{"to":"done","from":"start"}],
		"nodes": [{"type":"start","id":"start"}, {"type":"end","id":"done"}], "name": "hello" }`)
	if reordered.WorkflowID != first.WorkflowID || reordered.Version != 1 || reordered.Created {
		t.Errorf("same graph, other key order: %+v, want version 1 of %s, not created", reordered, first.WorkflowID)
	}
	changed := create(`{"name":"hello","nodes":[{"id":"start","type":"start"},{"id":"end","type":"end"}],"connections":[{"from":"start","to":"end"}]}`)
	if changed.WorkflowID != first.WorkflowID || changed.Version != 2 || !changed.Created {
		t.Errorf("changed graph: %+v, want version 2", changed)
	}

	resp := get(t, node.URL+"/api/v1/workflows/"+first.WorkflowID+"/versions")
	var versions api.WorkflowVersions
	resp.decode(t, &versions)
	if len(versions.Versions) != 2 || versions.Versions[0].Checksum == versions.Versions[1].Checksum || versions.AppliedIndex == 0 {
		t.Errorf("versions %+v", versions)
	}
	if resp.header.Get("X-Casare-Applied-Index") != strconv.FormatUint(versions.AppliedIndex, 10) {
		t.Errorf("header %q, body applied_index %d", resp.header.Get("X-Casare-Applied-Index"), versions.AppliedIndex)
	}
}

func TestIdempotencyKeyMakesRetriesSafe(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	body := createBody(t, nil)
	var first, second api.CreateWorkflowResponse
	postJSON(t, node.URL+"/api/v1/workflows", body, "Idempotency-Key", "req-1").decode(t, &first)
	postJSON(t, node.URL+"/api/v1/workflows", body, "Idempotency-Key", "req-1").decode(t, &second)
	// The store reports created=false for the retry, as nothing new was
	// made; the ids are what make the retry safe.
	if first.WorkflowID != second.WorkflowID || first.Version != second.Version || first.JobID != second.JobID || first.JobID == "" {
		t.Errorf("retry answered %+v, first answer %+v", second, first)
	}
	jobBody := `{"workflow_id":"` + first.WorkflowID + `"}`
	var j1, j2 api.Job
	postJSON(t, node.URL+"/api/v1/jobs", jobBody, "Idempotency-Key", "req-2").decode(t, &j1)
	postJSON(t, node.URL+"/api/v1/jobs", jobBody, "Idempotency-Key", "req-2").decode(t, &j2)
	if j1.ID != j2.ID || j1.ID == first.JobID {
		t.Errorf("job ids %s, %s (workflow's job %s)", j1.ID, j2.ID, first.JobID)
	}
	if counts, _ := node.Store.JobCounts(); counts[consensus.JobQueued] != 2 {
		t.Errorf("%d jobs queued, want 2", counts[consensus.JobQueued])
	}
}

func TestUploadWorkflow(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	graph := `{"name":"from-file","nodes":[{"id":"start","type":"start"},{"id":"done","type":"end"}],"connections":[{"from":"start","to":"done"}]}`
	ct, body := multipartBody(t, map[string]string{"priority": "2", "execution_mode": "internet"}, graph)
	resp := send(t, http.MethodPost, node.URL+"/api/v1/workflows/upload", ct, body)
	if resp.status != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var created api.CreateWorkflowResponse
	resp.decode(t, &created)
	wf, _, _ := node.Store.Workflow(created.WorkflowID)
	job, _, _ := node.Store.Job(created.JobID)
	if wf.Name != "from-file" || job.Priority != 2 || job.ExecutionMode != "internet" {
		t.Errorf("workflow %q, job priority %d mode %q", wf.Name, job.Priority, job.ExecutionMode)
	}

	ct, body = multipartBody(t, map[string]string{"workflow_name": "renamed", "trigger_type": "none"}, graph)
	resp = send(t, http.MethodPost, node.URL+"/api/v1/workflows/upload", ct, body)
	var renamed api.CreateWorkflowResponse
	resp.decode(t, &renamed)
	if wf, _, _ := node.Store.Workflow(renamed.WorkflowID); wf.Name != "renamed" || renamed.JobID != "" {
		t.Errorf("workflow %q, job %q: want renamed without job", wf.Name, renamed.JobID)
	}
}

func TestReadWorkflows(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	var created api.CreateWorkflowResponse
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{"trigger_type": "none"})).decode(t, &created)

	resp := get(t, node.URL+"/api/v1/workflows?consistent=true")
	var list api.WorkflowList
	resp.decode(t, &list)
	if len(list.Workflows) != 1 || list.Workflows[0].ID != created.WorkflowID || list.Workflows[0].LatestVersion != 1 ||
		list.Workflows[0].Tags == nil || list.Workflows[0].CreatedAt.IsZero() {
		t.Errorf("list %+v", list)
	}
	if list.AppliedIndex == 0 || resp.header.Get("X-Casare-Applied-Index") == "" {
		t.Errorf("applied index: body %d, header %q", list.AppliedIndex, resp.header.Get("X-Casare-Applied-Index"))
	}

	resp = get(t, node.URL+"/api/v1/workflows/"+created.WorkflowID)
	var wf api.Workflow
	resp.decode(t, &wf)
	// The graph is stored in canonical form: compact, keys sorted.
	canonical := `{"connections":[{"from":"start","to":"done"}],"name":"hello","nodes":[{"id":"start","type":"start"},{"id":"done","type":"end"}]}`
	if wf.Name != "hello" || string(wf.Graph) != canonical || len(wf.Checksum) != 64 {
		t.Errorf("workflow %+v graph %s", wf, wf.Graph)
	}
	if resp.header.Get("X-Casare-Applied-Index") == "" {
		t.Error("no X-Casare-Applied-Index on GET workflow")
	}
}

func TestDeleteWorkflow(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	var created api.CreateWorkflowResponse
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, nil)).decode(t, &created)

	resp := send(t, http.MethodDelete, node.URL+"/api/v1/workflows/"+created.WorkflowID+"?force=true", "", nil)
	if resp.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", resp.status, resp.body)
	}
	if resp := get(t, node.URL+"/api/v1/workflows/"+created.WorkflowID); resp.status != http.StatusNotFound {
		t.Errorf("deleted workflow answers %d", resp.status)
	}
	if job, _, _ := node.Store.Job(created.JobID); job.State != consensus.JobCancelled {
		t.Errorf("job of a force-deleted workflow is %s", job.State)
	}
	resp = send(t, http.MethodDelete, node.URL+"/api/v1/workflows/"+created.WorkflowID, "", nil)
	if resp.status != http.StatusNotFound || resp.apiError(t).Code != "not_found" {
		t.Errorf("second delete: %d %s", resp.status, resp.body)
	}
}
