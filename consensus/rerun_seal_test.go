package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// secretGraph is a workflow graph that declares vars secret.
func secretGraph(vars ...string) json.RawMessage {
	v, _ := json.Marshal(vars)
	return json.RawMessage(fmt.Sprintf(`{"name":"w","secret_variables":%s,"nodes":[{"id":"start","type":"start"}]}`, v))
}

// TestRerunLatestSealsParamsTheNewVersionDeclaresSecret re-runs, with
// the latest version, a finished job whose "password" the version it ran
// held in clear and a newer version declares secret: the re-run is
// queued (not refused for ever), with the password and the job's earlier
// secret "token" (which the new version no longer declares) sealed, and
// the sealed values open to what the old job was given.
func TestRerunLatestSealsParamsTheNewVersionDeclaresSecret(t *testing.T) {
	c := startCluster(t, 1)
	leader := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: secretGraph("token"), RequestID: "v1"}); err != nil {
		t.Fatal(err)
	}
	params := json.RawMessage(`{"password":"hunter2","token":"t0k3n","user":"ann"}`)
	if _, err := leader.SubmitJobs(ctx, []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: ModeAny, Params: params}}); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.CancelJob(ctx, "j1", "finished for the test"); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{Name: "w", Graph: secretGraph("password"), RequestID: "v2"}); err != nil {
		t.Fatal(err)
	}
	// The old job's own version still takes its params as they are.
	same, err := leader.Rerun(ctx, RerunCmd{JobID: "j1", NewID: "r0"})
	if err != nil {
		t.Fatalf("re-run of the job's own version: %v", err)
	}
	if !strings.Contains(string(same.Params), `"hunter2"`) || same.WorkflowVersion != 1 {
		t.Fatalf("re-run of version 1 = version %d, params %s", same.WorkflowVersion, same.Params)
	}
	rerun, err := leader.Rerun(ctx, RerunCmd{JobID: "j1", NewID: "r1", Latest: true})
	if err != nil {
		t.Fatalf("re-run with the latest version: %v", err)
	}
	if rerun.WorkflowVersion != 2 || rerun.RerunOf != "j1" || rerun.SealedParams == nil {
		t.Fatalf("re-run = version %d of %q, sealed %v", rerun.WorkflowVersion, rerun.RerunOf, rerun.SealedParams)
	}
	var shown map[string]string
	if err := json.Unmarshal(rerun.Params, &shown); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"password": "***", "token": "***", "user": "ann"}; !reflect.DeepEqual(shown, want) {
		t.Fatalf("re-run's params = %v, want %v", shown, want)
	}
	claimed := ClaimedJob{Job: rerun}
	if err := leader.openParams(&claimed); err != nil {
		t.Fatal(err)
	}
	var opened, want map[string]string
	_ = json.Unmarshal(params, &want)
	if err := json.Unmarshal(claimed.Job.Params, &opened); err != nil || !reflect.DeepEqual(opened, want) {
		t.Fatalf("opened params = %v (%v), want %v", opened, err, want)
	}
	// A retry answers the first re-run; bad ids change nothing.
	if again, err := leader.Rerun(ctx, RerunCmd{JobID: "j1", NewID: "r1", Latest: true}); err != nil || again.ID != "r1" {
		t.Fatalf("retried re-run = %s, %v", again.ID, err)
	}
	if _, err := leader.Rerun(ctx, RerunCmd{JobID: "nope", NewID: "r2", Latest: true}); !IsCode(err, CodeNotFound) {
		t.Fatalf("re-run of a missing job: %v, want not found", err)
	}
}
