package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// execCasare runs the command line in-process with stdin and returns what
// it printed and the exit code main would use.
func execCasare(ctx context.Context, t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	var ex exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		code = ex.code
		if ex.msg != "" {
			errOut.WriteString(ex.msg + "\n")
		}
	default:
		code = 1
		errOut.WriteString("error: " + err.Error() + "\n")
	}
	return out.String(), errOut.String(), code
}

// workflowFile writes a workflow into a fresh directory.
func workflowFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const greetWorkflow = `{
  "name": "greet",
  "variables": {"who": "world", "times": 1},
  "nodes": [
    {"id": "start", "type": "start"},
    {"id": "compose", "type": "set_variable", "config": {"name": "greeting", "value": "hello {{ who }} x{{ times * 2 }}"}},
    {"id": "say", "type": "log", "config": {"message": "{{ greeting }}"}},
    {"id": "check", "type": "if", "config": {"condition": "who != 'mallory'"}},
    {"id": "reject", "type": "fail", "config": {"message": "{{ who }} is not welcome"}}
  ],
  "connections": [
    {"from": "start", "to": "compose"},
    {"from": "compose", "to": "say"},
    {"from": "say", "to": "check"},
    {"from": "check", "to": "reject", "port": "false"}
  ]
}`

func TestRunText(t *testing.T) {
	path := workflowFile(t, "greet.json", greetWorkflow)
	out, errOut, code := execCasare(t.Context(), t, "", "run", path, "--var", "who=robots", "--var", "times:=21")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"succeeded in ", "(4 steps)", `greeting = "hello robots x42"`, `times = 21`} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// Standard error is not a terminal here: plain progress lines.
	for _, want := range []string{"ok    start (start)", "LOG   INFO say: hello robots x42", "ok    check (if)"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
}

func TestRunJSON(t *testing.T) {
	path := workflowFile(t, "greet.json", greetWorkflow)
	out, _, code := execCasare(t.Context(), t, "", "run", path, "--output", "json")
	var doc struct {
		State     string         `json:"state"`
		Variables map[string]any `json:"variables"`
		Error     *string        `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, out)
	}
	if code != 0 || doc.State != "succeeded" || doc.Error != nil || doc.Variables["greeting"] != "hello world x2" {
		t.Errorf("exit %d: %s", code, out)
	}

	out, _, code = execCasare(t.Context(), t, "", "run", path, "-o", "json", "--var", "who=mallory")
	var failed map[string]any
	if err := json.Unmarshal([]byte(out), &failed); err != nil {
		t.Fatal(err)
	}
	if code != 1 || failed["state"] != "failed" || failed["failure_kind"] != "business" ||
		!strings.Contains(failed["error"].(string), "mallory is not welcome") {
		t.Errorf("exit %d: %s", code, out)
	}
}

func TestRunErrors(t *testing.T) {
	valid := workflowFile(t, "greet.json", greetWorkflow)
	invalid := workflowFile(t, "bad.json", `{"nodes": [{"id": "start", "type": "start"}, {"id": "x", "type": "teleport"}], "connections": [{"from": "start", "to": "x"}]}`)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", invalid}, `node x: type: unknown node type "teleport"`},
		{[]string{"run", valid, "--var", "novalue"}, `--var "novalue": want key=value or key:=JSON`},
		{[]string{"run", valid, "--var", "n:=[1,"}, `--var n: "[1," after := is not valid JSON`},
		{[]string{"run", valid, "--output", "yaml"}, `--output "yaml": want text or json`},
		{[]string{"run", valid, "--break", "say"}, "--break and --watch need --debug"},
		{[]string{"run", filepath.Join(t.TempDir(), "missing.json")}, "no such file"},
	}
	for _, tc := range cases {
		_, errOut, code := execCasare(t.Context(), t, "", tc.args...)
		if code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("casare %s: exit %d, stderr %q; want %q", strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	path := workflowFile(t, "slow.json", `{"name": "slow", "nodes": [{"id": "start", "type": "start"}, {"id": "wait", "type": "delay", "config": {"duration": "1m"}}],
		"connections": [{"from": "start", "to": "wait"}]}`)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	out, _, code := execCasare(ctx, t, "", "run", path)
	if code != 130 || !strings.HasPrefix(out, "cancelled after") || time.Since(began) > 10*time.Second {
		t.Errorf("exit %d after %s: %s", code, time.Since(began), out)
	}
}

func TestRunResolvesSubworkflowsNextToTheFile(t *testing.T) {
	dir := t.TempDir()
	child := `{"name": "child", "nodes": [{"id": "start", "type": "start"}, {"id": "s", "type": "set_variable", "config": {"name": "answer", "value": "{{ q * 2 }}"}}],
		"connections": [{"from": "start", "to": "s"}]}`
	parent := `{"name": "parent", "nodes": [{"id": "start", "type": "start"},
		{"id": "call", "type": "subworkflow", "config": {"path": "lib/child.json", "params": {"q": 21}, "output_var": "child"}}],
		"connections": [{"from": "start", "to": "call"}]}`
	if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lib", "child.json"), []byte(child), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "parent.json"), []byte(parent), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := execCasare(t.Context(), t, "", "run", filepath.Join(dir, "parent.json"))
	if code != 0 || !strings.Contains(out, `"answer":42`) {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
