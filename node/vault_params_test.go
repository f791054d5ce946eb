package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// paramValue has characters JSON escapes, so its raw, base64 and
// JSON-escaped forms differ and each is looked for.
const paramValue = `hunter2"param\value<&>-7Kq`

// TestSecretVariablesAreSealedInRaftAndHiddenInTheAPI submits jobs whose
// parameter the workflow declares secret, through each way a job gets
// params (a workflow upload, a submit, a schedule, a re-run after a key
// rotation): the robot receives the real value, the API shows ***, and
// no file of the server's data dir (raft.db, snapshots) holds it in any
// form.
func TestSecretVariablesAreSealedInRaftAndHiddenInTheAPI(t *testing.T) {
	n := startNode(t, testConfig(t, "sv", ""))
	c := adminClient(t, n, n)
	ctx := context.Background()
	srv := newPasswordServer(t)
	graph := fmt.Sprintf(`{"name":"param-login","secret_variables":["password"],"nodes":[
 {"id":"start","type":"start"},
 {"id":"call","type":"http_request","config":{"url":%q,"headers":{"X-Password":"{{ password }}"},"output_var":"resp"}},
 {"id":"say","type":"log","config":{"message":"using {{ password }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"call"},{"from":"call","to":"say"},{"from":"say","to":"end"}]}`, srv.URL)
	params, _ := json.Marshal(map[string]string{"password": paramValue, "user": "ann"})
	res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "param-login", WorkflowJSON: json.RawMessage(graph), ExecutionMode: "lan", Params: params,
	})
	if err != nil {
		t.Fatal(err)
	}
	submitted, err := c.SubmitJob(ctx, wire.JobRequest{WorkflowID: res.WorkflowID, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.SubmitJobs(ctx, []wire.JobRequest{{WorkflowID: res.WorkflowID, Params: params}})
	if err != nil {
		t.Fatal(err)
	}
	for _, answered := range []wire.Job{submitted, batch[0]} { // what POST /jobs and /jobs/batch answer
		if p := string(answered.Params); !strings.Contains(p, `"password":"***"`) || !strings.Contains(p, `"user":"ann"`) {
			t.Fatalf("a submit answered params %s", p)
		}
	}
	sc, fired := triggeredSchedule(t, c, res.WorkflowID, params)
	jobs := []string{res.JobID, submitted.ID, batch[0].ID, fired}
	for _, id := range jobs {
		waitJob(t, c, id, "succeeded", 30*time.Second)
	}
	checkReceived(t, srv, 4)

	base := "http://" + n.HTTPAddr()
	for _, path := range []string{"/api/v1/jobs/" + res.JobID, "/api/v1/jobs/" + submitted.ID + "/logs",
		"/api/v1/jobs", "/api/v1/schedules/" + sc, "/api/v1/schedules"} {
		assertNoLeak(t, "GET "+path, getRaw(t, n, base+path), paramValue)
	}
	job := getRaw(t, n, base+"/api/v1/jobs/"+res.JobID)
	if !strings.Contains(string(job), `"password":"***"`) || !strings.Contains(string(job), `"user":"ann"`) {
		t.Fatalf("job view: %s", job)
	}
	if err := n.Store().Snapshot(); err != nil {
		t.Fatal(err)
	}
	t.Logf("searched %d files of the data dir", grepDataDir(t, n.cfg.DataDir, paramValue))

	// A rotation re-seals the parameters of jobs and schedules: a re-run
	// and the schedule's next job still get the value.
	old, _ := n.Store().VaultKeys()
	if _, err := c.RotateVaultKey(ctx); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	rerun, err := c.RerunJob(ctx, submitted.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.TriggerSchedule(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, rerun.ID, "succeeded", 30*time.Second)
	waitJob(t, c, again.JobID, "succeeded", 30*time.Second)
	checkReceived(t, srv, 6)
	if err := n.Store().Snapshot(); err != nil {
		t.Fatal(err)
	}
	if snap := latestSnapshot(t, n.cfg.DataDir); strings.Contains(string(snap), old.Current) {
		t.Fatalf("the snapshot after the rotation still holds values sealed under the retired key %s", old.Current)
	}
	grepDataDir(t, n.cfg.DataDir, paramValue)
}

// triggeredSchedule creates a disabled schedule of the workflow with
// params and fires it once by hand.
func triggeredSchedule(t *testing.T, c *client.Client, workflowID string, params json.RawMessage) (scheduleID, jobID string) {
	t.Helper()
	off := false
	sc, err := c.CreateSchedule(context.Background(), wire.ScheduleRequest{WorkflowID: workflowID, Cron: "@daily", Enabled: &off, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	fired, err := c.TriggerSchedule(context.Background(), sc.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sc.ID, fired.JobID
}

func checkReceived(t *testing.T, srv *passwordServer, want int) {
	t.Helper()
	got := srv.received()
	if len(got) != want {
		t.Fatalf("the server received %d requests, want %d", len(got), want)
	}
	for _, v := range got {
		if v != paramValue {
			t.Fatalf("the server received %q, want the parameter's value", v)
		}
	}
}
