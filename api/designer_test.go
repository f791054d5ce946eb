package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// TestNodeTypesAreTheExecutorRegistry: GET /api/v1/node-types lists
// every type of the executor in its order, with branch and error ports
// spelled out and a config schema whose properties and required list
// are the type's fields. A viewer may read it.
func TestNodeTypesAreTheExecutorRegistry(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	viewer := node.NewToken(t, "designer", consensus.RoleViewer)
	resp := send(t, http.MethodGet, node.URL+"/api/v1/node-types", "", nil, "Authorization", "Bearer "+viewer)
	if resp.status != http.StatusOK {
		t.Fatalf("node-types: %d %s", resp.status, resp.body)
	}
	var list api.NodeTypeList
	resp.decode(t, &list)
	want := executor.NodeTypes()
	if len(list.NodeTypes) != len(want) {
		t.Fatalf("got %d node types, the executor has %d", len(list.NodeTypes), len(want))
	}
	for i, w := range want {
		got := list.NodeTypes[i]
		if got.Name != w.Name || got.Category != w.Category || got.Description != w.Description {
			t.Errorf("type %d: got %s/%s, want %s/%s", i, got.Name, got.Category, w.Name, w.Category)
		}
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(got.ConfigSchema, &schema); err != nil || schema.Type != "object" {
			t.Fatalf("%s: config_schema %s: %v", got.Name, got.ConfigSchema, err)
		}
		var required []string
		for _, f := range w.Fields {
			if _, ok := schema.Properties[f.Name]; !ok {
				t.Errorf("%s: schema lacks field %s", w.Name, f.Name)
			}
			if f.Required {
				required = append(required, f.Name)
			}
		}
		if len(schema.Properties) != len(w.Fields) || strings.Join(schema.Required, ",") != strings.Join(required, ",") {
			t.Errorf("%s: schema properties %d required %v, fields %d required %v", w.Name, len(schema.Properties), schema.Required, len(w.Fields), required)
		}
	}
	byName := map[string]api.NodeType{}
	for _, nt := range list.NodeTypes {
		byName[nt.Name] = nt
	}
	ports := func(name string) string {
		var out []string
		for _, p := range byName[name].Outputs {
			out = append(out, p.Kind+":"+p.Name)
		}
		return strings.Join(out, " ")
	}
	for name, want := range map[string]string{
		"if": "branch:true branch:false error:error", "for_each": "branch:body branch:done error:error",
		"log": "next: error:error", "end": "",
	} {
		if got := ports(name); got != want {
			t.Errorf("%s outputs: got %q, want %q", name, got, want)
		}
	}
	if len(byName["start"].Inputs) != 0 || len(byName["log"].Inputs) != 1 {
		t.Errorf("inputs: start %v, log %v", byName["start"].Inputs, byName["log"].Inputs)
	}
	if len(list.Common) != 2 || list.ErrorVariables["error_node"] == "" {
		t.Errorf("common %v, error variables %v", list.Common, list.ErrorVariables)
	}
}

// TestValidateWorkflowReportsProblemsAndStoresNothing: POST
// /api/v1/workflows/validate gives the validator's problems by node and
// field, a parse error with its position, valid for a good workflow,
// 400 without workflow_json, and stores nothing in any case.
func TestValidateWorkflowReportsProblemsAndStoresNothing(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	viewer := node.NewToken(t, "designer", consensus.RoleViewer)
	before := replicatedState(t, node.Store)
	check := func(body string) api.ValidateWorkflowResponse {
		t.Helper()
		resp := postJSON(t, node.URL+"/api/v1/workflows/validate", body, "Authorization", "Bearer "+viewer)
		if resp.status != http.StatusOK {
			t.Fatalf("validate %s: %d %s", body, resp.status, resp.body)
		}
		var v api.ValidateWorkflowResponse
		resp.decode(t, &v)
		return v
	}
	good := `{"workflow_json":{"name":"w","nodes":[{"id":"s","type":"start"},{"id":"wait","type":"delay","config":{"duration":"1s"}}],"connections":[{"from":"s","to":"wait"}]}}`
	if v := check(good); !v.Valid || len(v.Problems) != 0 || v.Nodes != 2 || v.Connections != 1 {
		t.Errorf("good workflow: %+v", v)
	}
	bad := strings.Replace(good, `"1s"`, `"soon"`, 1)
	v := check(bad)
	if v.Valid || len(v.Problems) != 1 || v.Problems[0].NodeID != "wait" || v.Problems[0].Field != "duration" {
		t.Errorf("bad duration: %+v", v)
	}
	if v := check(`{"workflow_json":{"name":"w","nodez":[]}}`); v.Valid || !strings.Contains(v.Error, "nodez") || !strings.Contains(v.Error, "line 1") {
		t.Errorf("unknown field: %+v", v)
	}
	if v := check(`{"workflow_json":[1]}`); v.Valid || v.Error == "" {
		t.Errorf("a list: %+v", v)
	}
	for _, body := range []string{`{}`, `{"workflow_json":{},"extra":1}`, `not json`} {
		resp := postJSON(t, node.URL+"/api/v1/workflows/validate", body)
		if resp.status != http.StatusBadRequest {
			t.Errorf("validate %s: %d %s", body, resp.status, resp.body)
		}
	}
	if after := replicatedState(t, node.Store); after != before {
		t.Errorf("validate changed the state:\nbefore %s\nafter  %s", before, after)
	}
}
