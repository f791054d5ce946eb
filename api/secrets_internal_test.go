package api

import (
	"encoding/json"
	"testing"

	"github.com/casare/casare/consensus"
)

// TestParamMasksHideDeclaredSecrets checks the answer-side mask: the
// parameters a job's workflow version declares secret show as ***, the
// others as they were, and the store is asked once a version.
func TestParamMasksHideDeclaredSecrets(t *testing.T) {
	asked := map[consensus.GraphRef]int{}
	m := paramMasks{
		secretVariables: func(id string, version int) []string {
			asked[consensus.GraphRef{WorkflowID: id, Version: version}]++
			if id == "wf" && version == 2 {
				return []string{"password"}
			}
			return nil
		},
		seen: map[consensus.GraphRef][]string{},
	}
	params := json.RawMessage(`{"password":"hunter2","user":"ann"}`)
	jobs := []Job{
		{WorkflowID: "wf", WorkflowVersion: 2, Params: params},
		{WorkflowID: "wf", WorkflowVersion: 2, Params: json.RawMessage(`["not","an","object"]`)},
		{WorkflowID: "wf", WorkflowVersion: 1, Params: params},
		{WorkflowID: "wf", WorkflowVersion: 2, Params: params},
	}
	for i := range jobs {
		m.hide(&jobs[i])
	}
	want := []string{`{"password":"***","user":"ann"}`, `["not","an","object"]`, string(params), `{"password":"***","user":"ann"}`}
	for i, j := range jobs {
		if string(j.Params) != want[i] {
			t.Errorf("job %d shows params %s, want %s", i, j.Params, want[i])
		}
	}
	if string(params) != `{"password":"hunter2","user":"ann"}` {
		t.Errorf("hiding changed the job's own params: %s", params)
	}
	if asked[consensus.GraphRef{WorkflowID: "wf", Version: 2}] != 1 || asked[consensus.GraphRef{WorkflowID: "wf", Version: 1}] != 1 {
		t.Errorf("asked the store %v, want once a version", asked)
	}
}
