package consensus

import (
	"bytes"
	"io"
	"testing"
	"unsafe"
)

// Queued jobs hold one copy of their workflow's id and of their mode and
// state, whether they were submitted or restored from a snapshot.
func TestJobsShareRepeatedStrings(t *testing.T) {
	h := newHarness(t)
	h.apply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "w1", Graph: graph("a")})
	h.apply(cmdSubmitGroups, SubmitGroupsCmd{Groups: [][]JobSpec{{
		{ID: "j1", WorkflowID: "w1", ExecutionMode: ModeLAN},
		{ID: "j2", WorkflowID: "w1", ExecutionMode: ModeLAN},
	}}})
	restored := newFSM()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, h.f)))); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*state{"submitted": h.f.state, "restored": restored.state} {
		wf := s.workflows["w1"]
		for _, id := range []string{"j1", "j2"} {
			j := s.jobs[id]
			if j == nil {
				t.Fatalf("%s: job %s missing", name, id)
			}
			if unsafe.StringData(j.WorkflowID) != unsafe.StringData(wf.ID) {
				t.Errorf("%s: job %s has its own copy of the workflow id", name, id)
			}
			if unsafe.StringData(j.ExecutionMode) != unsafe.StringData(ModeLAN) || unsafe.StringData(string(j.State)) != unsafe.StringData(string(JobQueued)) {
				t.Errorf("%s: job %s has its own copy of its mode or state", name, id)
			}
		}
	}
}
