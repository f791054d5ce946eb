package consensus

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A schedule made before a version that declares one of its params a
// secret variable must not queue that param in clear: its fires are
// skipped with the reason, and a manual trigger is refused.
func TestAScheduleNeverQueuesASecretParamInClear(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdPutSchedule, PutScheduleCmd{Schedule: Schedule{
		ID: "s1", WorkflowID: "w1", Cron: "@every 1s", Timezone: "UTC", Enabled: true,
		Template: JobTemplate{Params: json.RawMessage(`{"password":"hunter2","user":"ann"}`)},
	}})
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("b"), SecretVariables: []string{"password"}, RequestID: "v2"})
	h.advance(1500 * time.Millisecond)
	fires := h.fireDue(t, "s1")
	if len(fires) != 1 || fires[0].JobID != "" || fires[0].Skipped != SkippedSecretParams {
		t.Fatalf("fires = %+v, want one skipped with %q", fires, SkippedSecretParams)
	}
	for _, j := range h.f.state.jobs {
		if strings.Contains(string(j.Params), "hunter2") {
			t.Fatalf("job %s carries the secret in clear: %s", j.ID, j.Params)
		}
	}
	if _, err := h.apply(cmdFireSchedule, FireCmd{ScheduleID: "s1", Manual: true, JobID: "m1"}); !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), `"password"`) {
		t.Fatalf("manual trigger: %v, want a conflict naming the parameter", err)
	}
	// A new schedule with the secret in clear is refused, for the server
	// to seal it and try again.
	_, err := h.apply(cmdPutSchedule, PutScheduleCmd{Schedule: Schedule{
		ID: "s2", WorkflowID: "w1", Cron: "@every 1s", Timezone: "UTC",
		Template: JobTemplate{Params: json.RawMessage(`{"password":"hunter2"}`)},
	}})
	if !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), errParamsResealMsg) {
		t.Fatalf("put schedule with a clear secret: %v, want the reseal conflict", err)
	}
}
