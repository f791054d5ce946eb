package consensus

import "testing"

// The apply of an entry the leader checked uses the command the check
// decoded, once: the FSM decodes the bytes itself for any other entry,
// and holds nothing after.
func TestApplyUsesTheCheckedCommandOnce(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	entry := h.entry(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "from-bytes", WorkflowID: "w1", ExecutionMode: ModeLAN}}})
	cmd, err := h.f.handlers.check(entry.Data)
	if err != nil {
		t.Fatal(err)
	}
	// Marked, so that the test sees which one the apply used.
	cmd.(*SubmitJobsCmd).Jobs[0].ID = "checked"
	h.f.predecoded.put(entry.Data, cmd)
	if res := h.f.Apply(entry).(*applyResult); res.err != nil {
		t.Fatal(res.err)
	}
	if h.f.state.jobs["checked"] == nil || h.f.state.jobs["from-bytes"] != nil {
		t.Fatalf("the apply decoded the bytes again instead of using the checked command")
	}
	if h.f.predecoded.take(entry.Data) != nil || h.f.predecoded.n.Load() != 0 {
		t.Fatal("the checked command is still held after its apply")
	}
	again := h.entry(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "other", WorkflowID: "w1", ExecutionMode: ModeLAN}}})
	if res := h.f.Apply(again).(*applyResult); res.err != nil || h.f.state.jobs["other"] == nil {
		t.Fatalf("an entry nobody checked: %v, queued %v", res.err, h.f.state.jobs["other"] != nil)
	}
}
