package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
)

var lanRobot = consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 1}

func submit(t *testing.T, node *apitest.Node, body string) api.Job {
	t.Helper()
	resp := postJSON(t, node.URL+"/api/v1/jobs", body)
	if resp.status != http.StatusCreated {
		t.Fatalf("submit %s: %d %s", body, resp.status, resp.body)
	}
	var job api.Job
	resp.decode(t, &job)
	return job
}

func TestPauseAndResumeGateClaims(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	submit(t, node, fmt.Sprintf(`{"workflow_id":%q}`, wf))
	claimable := func() bool { return node.Store.HasClaimable(lanRobot, time.Now()) }
	if !claimable() {
		t.Fatal("a queued job is not claimable")
	}

	steps := []struct {
		path      string
		claimable bool
		paused    bool
		pausedWF  []string
	}{
		{"/queue/pause", false, true, []string{}},
		{"/queue/resume", true, false, []string{}},
		{"/workflows/" + wf + "/pause", false, false, []string{wf}},
		{"/workflows/" + wf + "/resume", true, false, []string{}},
	}
	for _, step := range steps {
		if resp := postJSON(t, node.URL+"/api/v1"+step.path, ``); resp.status != http.StatusNoContent {
			t.Fatalf("POST %s: %d %s", step.path, resp.status, resp.body)
		}
		if got := claimable(); got != step.claimable {
			t.Errorf("after %s: claimable %v, want %v", step.path, got, step.claimable)
		}
		var stats api.QueueStats
		get(t, node.URL+"/api/v1/queue").decode(t, &stats)
		if stats.Paused != step.paused || strings.Join(stats.PausedWorkflows, ",") != strings.Join(step.pausedWF, ",") {
			t.Errorf("after %s: queue paused %v, paused workflows %v", step.path, stats.Paused, stats.PausedWorkflows)
		}
	}
}

func TestWorkflowSettingsCapConcurrency(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	settings, err := node.Client.SetWorkflowSettings(ctx, wf, api.WorkflowSettingsRequest{MaxConcurrency: ptr(1), VisibilityTimeout: "45s"})
	if err != nil || settings != (api.WorkflowSettings{MaxConcurrency: 1, VisibilityTimeout: "45s"}) {
		t.Fatalf("settings: %+v, %v", settings, err)
	}
	// Absent fields keep their value.
	settings, err = node.Client.SetWorkflowSettings(ctx, wf, api.WorkflowSettingsRequest{VisibilityTimeout: "1m"})
	if err != nil || settings.MaxConcurrency != 1 || settings.VisibilityTimeout != "1m0s" {
		t.Fatalf("second settings: %+v, %v", settings, err)
	}
	detail, err := node.Client.Workflow(ctx, wf)
	if err != nil || detail.Settings != settings {
		t.Errorf("workflow shows settings %+v, want %+v (%v)", detail.Settings, settings, err)
	}

	for range 2 {
		submit(t, node, fmt.Sprintf(`{"workflow_id":%q}`, wf))
	}
	claimed, err := node.Peer.RobotClaim(ctx, consensus.ClaimCmd{RobotID: "r1", RobotKind: "lan", Max: 5})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim under max_concurrency 1 took %d jobs, %v", len(claimed), err)
	}
	if lease := claimed[0].Job.Lease; lease == nil || lease.ExpiresAt.Sub(claimed[0].Job.StartedAt) != time.Minute {
		t.Errorf("lease %+v does not last the workflow's visibility timeout", lease)
	}
	if node.Store.HasClaimable(consensus.ClaimCmd{RobotID: "r2", RobotKind: "lan", Max: 1}, time.Now()) {
		t.Error("a second job of the workflow is claimable while one runs under max_concurrency 1")
	}
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	var ids []string
	for _, p := range []int{1, 7, 7} {
		ids = append(ids, submit(t, node, fmt.Sprintf(`{"workflow_id":%q,"priority":%d}`, wf, p)).ID)
	}
	postJSON(t, node.URL+"/api/v1/jobs/"+ids[0]+"/cancel", ``)
	time.Sleep(20 * time.Millisecond) // let the oldest queued job age measurably

	resp := get(t, node.URL+"/api/v1/queue")
	var stats api.QueueStats
	resp.decode(t, &stats)
	if stats.ByState["queued"] != 2 || stats.ByState["cancelled"] != 1 || len(stats.ByState) != 6 {
		t.Errorf("by_state %v", stats.ByState)
	}
	if stats.QueuedByPriority[7] != 2 || stats.QueuedByPriority[1] != 0 || stats.FinishedLastMinute != 1 {
		t.Errorf("queued_by_priority %v, finished_last_minute %d", stats.QueuedByPriority, stats.FinishedLastMinute)
	}
	if stats.OldestQueuedAgeSeconds <= 0 || stats.OldestQueuedAt.IsZero() || stats.Paused || stats.AppliedIndex == 0 {
		t.Errorf("stats %s", resp.body)
	}
	if resp.header.Get("X-Casare-Applied-Index") == "" || !strings.Contains(string(resp.body), `"paused_workflows":[]`) {
		t.Errorf("queue read: %s", resp.body)
	}

	metrics := string(get(t, node.URL+"/metrics").body)
	for _, want := range []string{`casare_jobs{state="queued"} 2`, `casare_queue_oldest_queued_seconds 0.`, `casare_queue_finished_last_minute 1`,
		`casare_queue_paused 0`, `casare_schedules{enabled="true"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRerun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	old := submit(t, node, fmt.Sprintf(`{"workflow_id":%q,"priority":8,"params":{"x":1},"backoff":"3s","max_attempts":4}`, wf))
	if _, err := node.Client.CancelJob(ctx, old.ID, "try again"); err != nil {
		t.Fatal(err)
	}

	var first api.Job
	for range 2 { // the same key names the same re-run
		resp := postJSON(t, node.URL+"/api/v1/jobs/"+old.ID+"/rerun", ``, "Idempotency-Key", "rerun-1")
		var job api.Job
		resp.decode(t, &job)
		if resp.status != http.StatusCreated || job.ID == old.ID || job.RerunOf != old.ID || job.State != "queued" {
			t.Fatalf("rerun: %d %s", resp.status, resp.body)
		}
		if first.ID != "" && job.ID != first.ID {
			t.Errorf("retried rerun queued %s besides %s", job.ID, first.ID)
		}
		first = job
	}
	if first.Priority != 8 || string(first.Params) != `{"x":1}` || first.Backoff != "3s" || first.MaxAttempts != 4 || first.WorkflowVersion != 1 {
		t.Errorf("re-run does not copy the job: %+v", first)
	}

	// A new version of the workflow: latest_version runs it.
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{"trigger_type": "none",
		"workflow_json": json.RawMessage(strings.Replace(helloWorkflow, `"done"`, `"finish"`, 2))}))
	latest, err := node.Client.RerunJob(ctx, old.ID, true)
	if err != nil || latest.WorkflowVersion != 2 || latest.ID == first.ID {
		t.Errorf("rerun with latest_version: %+v, %v", latest, err)
	}

	// A version that declares x a secret variable: the re-run seals the
	// value the old job held in clear, where it was once refused with 409.
	postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{"trigger_type": "none",
		"workflow_json": json.RawMessage(strings.Replace(helloWorkflow, `{`, `{"secret_variables":["x"],`, 1))}))
	sealed, err := node.Client.RerunJob(ctx, old.ID, true)
	if err != nil || sealed.WorkflowVersion != 3 || string(sealed.Params) != `{"x":"***"}` {
		t.Errorf("rerun with latest_version that declares x secret: %+v, %v", sealed, err)
	}
}

func TestJobShowsItsRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	queued := submit(t, node, fmt.Sprintf(`{"workflow_id":%q,"deadline":%q,"backoff":"2s","unique_key":"u1"}`, wf, past))
	if !queued.Late || queued.Backoff != "2s" || queued.UniqueKey != "u1" || queued.Deadline.IsZero() {
		t.Errorf("submitted job: %+v", queued)
	}

	claimed, err := node.Peer.RobotClaim(ctx, lanRobot)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	token := claimed[0].Job.Lease.Token
	_, err = node.Peer.RobotProgress(ctx, consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{{
		JobID: queued.ID, Token: token, Checkpoint: json.RawMessage(`{"completed":["start"]}`),
		Logs:       []consensus.LogLine{{Time: time.Now(), Level: "info", NodeID: "start", Message: "hello"}},
		NodeStatus: map[string]string{"start": "succeeded", "done": "running"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := node.Client.Job(ctx, queued.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !job.Late || job.State != "running" || len(job.Attempts) != 1 || job.Attempts[0].RobotID != "r1" ||
		string(job.Checkpoint) != `{"completed":["start"]}` || len(job.LastLogs) != 1 || job.LastLogs[0].Message != "hello" ||
		job.NodeStatus["done"] != "running" || job.LeaseExpiresAt.IsZero() {
		t.Errorf("running job: %+v", job)
	}
	list, err := node.Client.Jobs(ctx, client.JobQuery{})
	if err != nil || len(list.Jobs) != 1 || list.Jobs[0].LastLogs != nil || list.Jobs[0].Checkpoint != nil || !list.Jobs[0].Late {
		t.Errorf("a list shows logs or checkpoints: %+v, %v", list.Jobs, err)
	}

	_, err = node.Peer.RobotComplete(ctx, consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{{
		JobID: queued.ID, Token: token, Error: "portal down", FailureKind: consensus.FailureBusiness,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	job, _ = node.Client.Job(ctx, queued.ID)
	if job.Late || job.State != "failed" || job.FailureKind != "business" || job.Attempts[0].Outcome == "" || job.Attempts[0].FinishedAt.IsZero() {
		t.Errorf("finished job: %+v", job)
	}
}

func ptr[T any](v T) *T { return &v }
