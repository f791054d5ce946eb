package api_test

import (
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

func TestScheduleLifecycle(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	c := node.Client
	wf := newWorkflow(t, node)

	resp := postJSON(t, node.URL+"/api/v1/schedules", fmt.Sprintf(`{"workflow_id":%q,"cron":"*/5 * * * *","timezone":"Europe/Berlin",
		"misfire":"skip","overlap":"forbid","catchup_window":"30m","priority":7,"params":{"b":2,"a":1},"robot_tags":["sap"]}`, wf))
	if resp.status != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.status, resp.body)
	}
	var sc api.Schedule
	resp.decode(t, &sc)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	next := sc.NextRun.In(berlin)
	if sc.WorkflowID != wf || !sc.Enabled || sc.Timezone != "Europe/Berlin" || sc.Misfire != "skip" || sc.Overlap != "forbid" ||
		sc.CatchupWindow != "30m0s" || sc.Priority != 7 || string(sc.Params) != `{"a":1,"b":2}` || sc.MaxAttempts != 3 ||
		sc.ExecutionMode != "any" || next.Minute()%5 != 0 || next.Second() != 0 || !next.After(time.Now()) ||
		time.Until(next) > 5*time.Minute || sc.LastRun.IsZero() {
		t.Errorf("created schedule %+v", sc)
	}

	defaults, err := c.CreateSchedule(ctx, api.ScheduleRequest{WorkflowID: wf, Cron: "@daily", Enabled: ptr(false)})
	if err != nil || defaults.Enabled || defaults.Timezone != "UTC" || defaults.Misfire != "run_all" || defaults.Overlap != "allow" ||
		defaults.CatchupWindow != "1h0m0s" || defaults.Priority != 5 || !defaults.NextRun.IsZero() {
		t.Errorf("schedule with defaults %+v, %v", defaults, err)
	}

	list, err := c.Schedules(ctx, wf)
	if err != nil || len(list.Schedules) != 2 || list.AppliedIndex == 0 {
		t.Errorf("list: %+v, %v", list, err)
	}
	if other, _ := c.Schedules(ctx, "another-workflow"); len(other.Schedules) != 0 {
		t.Errorf("another workflow's schedules: %+v", other.Schedules)
	}

	var jobID string
	for range 2 { // the same key names the same job
		fired, err := c.TriggerSchedule(ctx, sc.ID, client.IdempotencyKey("now-1"))
		if err != nil || fired.JobID == "" || (jobID != "" && fired.JobID != jobID) {
			t.Fatalf("trigger: %+v, %v (first job %s)", fired, err, jobID)
		}
		jobID = fired.JobID
	}
	job, err := c.Job(ctx, jobID)
	if err != nil || job.ScheduleID != sc.ID || job.Priority != 7 || job.RobotTags[0] != "sap" {
		t.Errorf("triggered job %+v, %v", job, err)
	}
	got, err := c.Schedule(ctx, sc.ID)
	if err != nil || len(got.History) == 0 || got.History[0].JobID != jobID || !got.History[0].Manual {
		t.Errorf("history after trigger: %+v, %v", got.History, err)
	}
	if queued := node.Store.QueueStats(time.Now()).ByState[consensus.JobQueued]; queued != 1 {
		t.Errorf("a retried trigger queued %d jobs", queued)
	}

	disabled, err := c.DisableSchedule(ctx, sc.ID)
	if err != nil || disabled.Enabled || !disabled.NextRun.IsZero() {
		t.Errorf("disable: %+v, %v", disabled, err)
	}
	if body := get(t, node.URL+"/api/v1/schedules/"+sc.ID).body; strings.Contains(string(body), "next_run") {
		t.Errorf("a disabled schedule shows a next run: %s", body)
	}
	enabled, err := c.EnableSchedule(ctx, sc.ID)
	if err != nil || !enabled.Enabled || enabled.NextRun.IsZero() {
		t.Errorf("enable: %+v, %v", enabled, err)
	}
	if err := c.DeleteSchedule(ctx, sc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Schedule(ctx, sc.ID); !client.IsCode(err, "not_found") {
		t.Errorf("deleted schedule: %v", err)
	}
	if _, found, _ := node.Store.Job(jobID); !found {
		t.Error("deleting the schedule deleted its job")
	}
}

func TestScheduledWorkflowFires(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	resp := postJSON(t, node.URL+"/api/v1/workflows", createBody(t, map[string]any{
		"trigger_type": "scheduled", "cron": "@every 1s", "overlap": "forbid", "priority": 6,
	}))
	var created api.CreateWorkflowResponse
	resp.decode(t, &created)
	if resp.status != http.StatusCreated || created.ScheduleID == "" || created.JobID != "" {
		t.Fatalf("scheduled create: %d %s", resp.status, resp.body)
	}
	sc, found, _ := node.Store.Schedule(created.ScheduleID)
	if !found || sc.WorkflowID != created.WorkflowID || sc.Overlap != "forbid" || sc.Template.Priority != 6 {
		t.Fatalf("schedule %+v (found %v)", sc, found)
	}
	apitest.WaitFor(t, 5*time.Second, "the schedule to fire", func() bool {
		jobs, _, _ := node.Store.Jobs(consensus.JobFilter{WorkflowID: created.WorkflowID})
		return len(jobs) > 0 && jobs[0].ScheduleID == created.ScheduleID && !jobs[0].FireTime.IsZero()
	})
}
