package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
)

const helloWorkflow = `{"name":"hello","nodes":[{"id":"start","type":"start"},{"id":"done","type":"end"}],"connections":[{"from":"start","to":"done"}]}`

func TestRoundTrip(t *testing.T) {
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	c := node.Client

	priority := 8
	created, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "hello", WorkflowJSON: []byte(helloWorkflow), Priority: &priority,
		Params: []byte(`{"x":1}`), Tags: []string{"demo"},
	}, client.IdempotencyKey("k1"))
	if err != nil || created.JobID == "" || created.Version != 1 {
		t.Fatalf("CreateWorkflow: %+v, %v", created, err)
	}
	uploaded, err := c.UploadWorkflow(ctx, client.Upload{
		FileName: "other.json", File: strings.NewReader(strings.Replace(helloWorkflow, "hello", "other", 1)),
		TriggerType: "none", Priority: &priority,
	})
	if err != nil || uploaded.JobID != "" {
		t.Fatalf("UploadWorkflow: %+v, %v", uploaded, err)
	}
	list, err := c.Workflows(ctx, client.Consistent())
	if err != nil || len(list.Workflows) != 2 || list.Workflows[0].Name != "hello" || list.AppliedIndex == 0 {
		t.Fatalf("Workflows: %+v, %v", list, err)
	}
	wf, err := c.Workflow(ctx, created.WorkflowID)
	if err != nil || wf.Name != "hello" || wf.Tags[0] != "demo" || len(wf.Graph) == 0 {
		t.Fatalf("Workflow: %+v, %v", wf, err)
	}
	versions, err := c.WorkflowVersions(ctx, created.WorkflowID)
	if err != nil || len(versions.Versions) != 1 {
		t.Fatalf("WorkflowVersions: %+v, %v", versions, err)
	}

	job, err := c.Job(ctx, created.JobID)
	if err != nil || job.Priority != 8 || string(job.Params) != `{"x":1}` {
		t.Fatalf("Job: %+v, %v", job, err)
	}
	single, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: uploaded.WorkflowID, ExecutionMode: "lan"})
	if err != nil || single.ExecutionMode != "lan" {
		t.Fatalf("SubmitJob: %+v, %v", single, err)
	}
	batch, err := c.SubmitJobs(ctx, []api.JobRequest{{WorkflowID: uploaded.WorkflowID}, {WorkflowID: created.WorkflowID}})
	if err != nil || len(batch) != 2 || batch[1].WorkflowID != created.WorkflowID {
		t.Fatalf("SubmitJobs: %+v, %v", batch, err)
	}
	page, err := c.Jobs(ctx, client.JobQuery{Limit: 3})
	if err != nil || len(page.Jobs) != 3 || page.NextCursor == nil {
		t.Fatalf("Jobs page 1: %+v, %v", page, err)
	}
	page, err = c.Jobs(ctx, client.JobQuery{Limit: 3, Cursor: *page.NextCursor})
	if err != nil || len(page.Jobs) != 1 || page.NextCursor != nil || page.Jobs[0].ID != created.JobID {
		t.Fatalf("Jobs page 2: %+v, %v", page, err)
	}
	cancelled, err := c.CancelJob(ctx, single.ID, "test")
	if err != nil || cancelled.State != "cancelled" {
		t.Fatalf("CancelJob: %+v, %v", cancelled, err)
	}
	queued, err := c.Jobs(ctx, client.JobQuery{State: "queued", WorkflowID: uploaded.WorkflowID})
	if err != nil || len(queued.Jobs) != 1 {
		t.Fatalf("Jobs by state and workflow: %+v, %v", queued, err)
	}

	if err := c.DeleteWorkflow(ctx, created.WorkflowID, false); !client.IsCode(err, "conflict") {
		t.Errorf("DeleteWorkflow without force: %v, want conflict", err)
	}
	if err := c.DeleteWorkflow(ctx, created.WorkflowID, true); err != nil {
		t.Errorf("DeleteWorkflow with force: %v", err)
	}

	cluster, err := c.Cluster(ctx)
	if err != nil || cluster.Leader == nil || cluster.Leader.Name != "n1" {
		t.Errorf("Cluster: %+v, %v", cluster, err)
	}
	if h, err := c.Health(ctx); err != nil || h.Status != "ok" {
		t.Errorf("Health: %+v, %v", h, err)
	}
	if ready, err := c.Ready(ctx); err != nil || !ready {
		t.Errorf("Ready: %v, %v", ready, err)
	}
	if m, err := c.Metrics(ctx); err != nil || !strings.Contains(string(m), "casare_jobs") {
		t.Errorf("Metrics: %v", err)
	}
	if doc, err := c.OpenAPI(ctx); err != nil || !strings.Contains(string(doc), `"openapi": "3.1.0"`) {
		t.Errorf("OpenAPI: %v", err)
	}
	var h api.Health
	if err := c.GetJSON(ctx, "/health?ready=0", &h); err != nil || h.Node != "n1" {
		t.Errorf("GetJSON: %+v, %v", h, err)
	}
}

func TestAPIErrorIsTyped(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	_, err := node.Client.Job(t.Context(), "no-such-job")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != "not_found" ||
		!strings.Contains(ae.Message, "no-such-job") || string(ae.Details) != "{}" {
		t.Fatalf("error %#v", err)
	}
	_, err = node.Client.SubmitJob(t.Context(), api.JobRequest{WorkflowID: "w", ExecutionMode: "moon"})
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || !strings.Contains(string(ae.Details), `"field":"execution_mode"`) {
		t.Fatalf("error %#v", err)
	}

	lonely := apitest.Start(t, apitest.Config{Name: "n2"})
	if ready, err := lonely.Client.Ready(t.Context()); err != nil || ready {
		t.Errorf("Ready on a node without leader: %v, %v", ready, err)
	}
}

func TestNonAPIErrors(t *testing.T) {
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "upstream is down", http.StatusBadGateway)
	}))
	defer proxy.Close()
	_, err := client.New(proxy.URL).Cluster(t.Context())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadGateway || ae.Code != "" || ae.Message != "upstream is down" {
		t.Errorf("error from a proxy: %#v", err)
	}
	if _, err := client.New("ftp://x").Cluster(t.Context()); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Errorf("bad URL: %v", err)
	}
}

func TestClientHonoursContext(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.New(slow.URL).Cluster(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's deadline", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("call returned after %v", elapsed)
	}
}

func TestLeave(t *testing.T) {
	left := make(chan struct{})
	node := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) {
		c.OnLeave = func() { close(left) }
	}})
	if err := node.Client.Leave(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-left:
	case <-time.After(5 * time.Second):
		t.Fatal("OnLeave not called")
	}
}
