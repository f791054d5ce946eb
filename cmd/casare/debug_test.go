package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const countWorkflow = `{
  "name": "count",
  "variables": {"n": 0},
  "nodes": [
    {"id": "start", "type": "start"},
    {"id": "one", "type": "set_variable", "config": {"name": "n", "value": "{{ n + 1 }}"}},
    {"id": "two", "type": "set_variable", "config": {"name": "n", "value": "{{ n + 1 }}"}},
    {"id": "three", "type": "set_variable", "config": {"name": "n", "value": "{{ n + 1 }}"}}
  ],
  "connections": [{"from": "start", "to": "one"}, {"from": "one", "to": "two"}, {"from": "two", "to": "three"}]
}`

func TestDebuggerBreakStepWatch(t *testing.T) {
	path := workflowFile(t, "count.json", countWorkflow)
	script := "vars\nwatch n * 10\nprint n + 100\nstep\nbogus\ncontinue\n"
	out, errOut, code := execCasare(t.Context(), t, script, "run", path, "--debug", "--break", "two", "--watch", "n")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"running to 1 breakpoint(s)",
		"stopped before two [set_variable] (breakpoint)\n  n = 1\n",
		`"n": 1`,
		"  n * 10 = 10\n",
		"  n + 100 = 101\n",
		"stopped before three [set_variable] (step)\n  n = 2\n  n * 10 = 20\n",
		`unknown command "bogus"`,
		"succeeded in",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestDebuggerQuitAndEndOfInput(t *testing.T) {
	path := workflowFile(t, "count.json", countWorkflow)
	out, _, code := execCasare(t.Context(), t, "step\nquit\n", "run", path, "--debug")
	if code != 130 || !strings.Contains(out, "stopping before the first node") ||
		!strings.Contains(out, "stopped before one") || !strings.Contains(out, "run stopped") {
		t.Errorf("quit: exit %d\n%s", code, out)
	}

	out, _, code = execCasare(t.Context(), t, "", "run", path, "--debug")
	if code != 0 || !strings.Contains(out, "end of input: continuing without the debugger") || !strings.Contains(out, "n = 3") {
		t.Errorf("end of input: exit %d\n%s", code, out)
	}

	_, errOut, code := execCasare(t.Context(), t, "", "run", path, "--debug", "--break", "nine")
	if code != 1 || !strings.Contains(errOut, `--break nine: no node "nine" in the workflow`) {
		t.Errorf("bad breakpoint: exit %d: %s", code, errOut)
	}
	_, errOut, code = execCasare(t.Context(), t, "", "run", path, "--debug", "--watch", "n +")
	if code != 1 || !strings.Contains(errOut, "--watch n +:") {
		t.Errorf("bad watch: exit %d: %s", code, errOut)
	}
}

func TestDebuggerStackInSubworkflow(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "count.json"), []byte(countWorkflow), 0o644); err != nil {
		t.Fatal(err)
	}
	parent := workflowFile(t, "parent.json", `{"name": "parent", "nodes": [{"id": "start", "type": "start"},
		{"id": "call", "type": "subworkflow", "config": {"path": "`+filepath.Join(dir, "count.json")+`"}}],
		"connections": [{"from": "start", "to": "call"}]}`)
	out, _, code := execCasare(t.Context(), t, "stack\ncontinue\n", "run", parent, "--debug", "--break", "call/two")
	if code != 0 || !strings.Contains(out, "stopped before call/two (breakpoint)") ||
		!strings.Contains(out, "  #0 parent: node call\n  #1 next: call/two\n") {
		t.Errorf("exit %d\n%s", code, out)
	}
}
