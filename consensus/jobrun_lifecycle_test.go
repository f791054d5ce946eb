package consensus

import (
	"encoding/json"
	"time"
)

// applyJobLifecycle applies, through the FSM, commands that leave a job
// in each state a job can be in, with every field of a job set on one of
// them: queued (with and without submit options), running with progress,
// succeeded, failed for the business, requeued after a failure,
// cancelled while queued, a debug session and a re-run.
func applyJobLifecycle(h *fsmHarness) {
	h.t.Helper()
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "invoices", Graph: graph("a"), RequestID: "r1"})
	at := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{
		{ID: "j-run", WorkflowID: "w1", ExecutionMode: "any", Priority: 9},
		{ID: "j-ok", WorkflowID: "w1", ExecutionMode: "any", Priority: 9},
		{ID: "j-retry", WorkflowID: "w1", ExecutionMode: "any", Priority: 9, Backoff: Duration(5 * time.Second), MaxAttempts: 3},
		{ID: "j-business", WorkflowID: "w1", ExecutionMode: "any", Priority: 9},
	}})
	claimed := h.mustApply(cmdClaimJobs, ClaimCmd{RobotID: "r1", RobotKind: "lan", Max: 4, RequestID: "c1"}).([]ClaimedJob)
	token := map[string]uint64{}
	for _, c := range claimed {
		token[c.Job.ID] = c.Job.Lease.Token
	}
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{
		JobID: "j-run", Token: token["j-run"], Checkpoint: json.RawMessage(`{"node":"n2"}`),
		Logs:       []LogLine{{Time: at, Level: "info", NodeID: "n1", Message: "hello"}},
		NodeStatus: map[string]string{"n1": "succeeded", "n2": "running"},
	}}})
	h.mustApply(cmdCompleteJobs, CompleteCmd{RobotID: "r1", Items: []Completion{
		{JobID: "j-ok", Token: token["j-ok"], Succeeded: true, Result: json.RawMessage(`{"total":3}`),
			Logs: []LogLine{{Time: at, Level: "info", Message: "done"}}},
		{JobID: "j-retry", Token: token["j-retry"], Error: "timeout", FailureKind: FailureApplication},
		{JobID: "j-business", Token: token["j-business"], Error: "no such invoice", FailureKind: FailureBusiness},
	}})
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{
		{ID: "j-queued", WorkflowID: "w1", ExecutionMode: "lan"},
		{ID: "j-options", WorkflowID: "w1", ExecutionMode: "any", Priority: 2, RobotTags: []string{"sap"}, PinnedRobot: "r2",
			UniqueKey: "invoice-7", NotBefore: at.Add(time.Hour), Deadline: at.Add(2 * time.Hour), Backoff: Duration(time.Minute),
			Params: json.RawMessage(`{"invoice":7}`)},
		{ID: "j-debug", WorkflowID: "w1", ExecutionMode: "any", Debug: &DebugOptions{Breakpoints: []string{"start"}}},
		{ID: "j-cancel", WorkflowID: "w1", ExecutionMode: "any"},
	}})
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "j-cancel", Reason: "not needed"})
	h.mustApply(cmdRerun, RerunCmd{JobID: "j-business", NewID: "j-rerun"})
}
