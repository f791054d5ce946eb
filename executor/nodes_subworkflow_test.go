package executor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const childWorkflow = `{
  "name": "child",
  "variables": {"greeting": "hello", "times": 1},
  "nodes": [
    {"id": "start", "type": "start"},
    {"id": "say", "type": "set_variable", "config": {"name": "message", "value": "{{ greeting }} {{ who }} x{{ times }} ({{ job_id }})"}},
    {"id": "bad", "type": "if", "config": {"condition": "who == 'mallory'"}},
    {"id": "reject", "type": "fail", "config": {"message": "{{ who }} is not allowed"}}
  ],
  "connections": [
    {"from": "start", "to": "say"},
    {"from": "say", "to": "bad"},
    {"from": "bad", "to": "reject", "port": "true"}
  ]
}`

func TestSubworkflowNode(t *testing.T) {
	e, dir := testEngine(t)
	if err := os.WriteFile(filepath.Join(dir, "child.json"), []byte(childWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	inline := parseWorkflow(t, childWorkflow)
	inlineMap := roundTrip(t, inline).(map[string]any)
	runNodeCases(t, e, []nodeCase{
		{
			name:  "by path, with params and output",
			nodes: []Node{{ID: "call", Type: "subworkflow", Config: cfg("path", "child.json", "params", map[string]any{"who": "{{ user }}", "times": 2}, "output_var", "child")}},
			vars:  map[string]any{"user": "alice", "job_id": "j-9"},
			check: func(t *testing.T, res Result) {
				child := res.Variables["child"].(map[string]any)
				if child["message"] != "hello alice x2 (j-9)" {
					t.Errorf("child variables %s", showJSON(child))
				}
				if _, leaked := res.Variables["message"]; leaked {
					t.Error("a child variable leaked into the parent")
				}
			},
		},
		{
			name:  "inline",
			nodes: []Node{{ID: "call", Type: "subworkflow", Config: cfg("workflow", inlineMap, "params", map[string]any{"who": "bob"}, "output_var", "child")}},
			check: func(t *testing.T, res Result) {
				if msg := res.Variables["child"].(map[string]any)["message"]; msg != "hello bob x1 ()" {
					t.Errorf("message = %q", msg)
				}
			},
		},
		{
			name:      "a business failure inside stays a business failure",
			nodes:     []Node{{ID: "call", Type: "subworkflow", Config: cfg("path", filepath.Join(dir, "child.json"), "params", map[string]any{"who": "mallory"})}},
			state:     StateFailed,
			kind:      FailureBusiness,
			errSubstr: "node call: subworkflow child: node reject: mallory is not allowed",
		},
		{
			name:      "missing file",
			nodes:     []Node{{ID: "call", Type: "subworkflow", Config: cfg("path", "nope.json")}},
			state:     StateFailed,
			kind:      FailureApplication,
			errSubstr: "no such file",
		},
	})
}

func TestSubworkflowRecursionIsBounded(t *testing.T) {
	dir := t.TempDir()
	self := `{"name": "self", "nodes": [{"id": "start", "type": "start"}, {"id": "again", "type": "subworkflow", "config": {"path": "self.json"}}],
	          "connections": [{"from": "start", "to": "again"}]}`
	if err := os.WriteFile(filepath.Join(dir, "self.json"), []byte(self), 0o644); err != nil {
		t.Fatal(err)
	}
	e := NewEngine(EngineOptions{BaseDir: dir, MaxSubworkflowDepth: 4})
	res := e.Run(background(t), parseWorkflow(t, self), RunOptions{})
	if res.State != StateFailed || !strings.Contains(res.Error, "subworkflows nest deeper than 4 calls") {
		t.Errorf("%s: %s", res.State, res.Error)
	}
}

func TestSubworkflowCallStackAndEvents(t *testing.T) {
	e, dir := testEngine(t)
	if err := os.WriteFile(filepath.Join(dir, "child.json"), []byte(childWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	w := chain(Node{ID: "call", Type: "subworkflow", Config: cfg("path", "child.json", "params", map[string]any{"who": "eve"})})
	w.Name = "parent"
	var stacks []string
	var rec recorder
	opts := rec.options(RunOptions{BeforeNode: func(ctx context.Context, id string, _ map[string]any) error {
		var frames []string
		for _, f := range CallStack(ctx) {
			frames = append(frames, f.Workflow+":"+f.NodeID)
		}
		stacks = append(stacks, id+" <- ["+strings.Join(frames, " ")+"]")
		return nil
	}})
	mustSucceed(t, e.Run(background(t), w, opts))
	want := []string{
		"start <- []",
		"call <- []",
		"call/start <- [parent:call]",
		"call/say <- [parent:call]",
		"call/bad <- [parent:call]",
	}
	if !slices.Equal(stacks, want) {
		t.Errorf("stacks:\n%s\nwant\n%s", strings.Join(stacks, "\n"), strings.Join(want, "\n"))
	}
	if got := rec.started(); !slices.Equal(got, []string{"start", "call", "call/start", "call/say", "call/bad"}) {
		t.Errorf("started %v", got)
	}
}
