package main

import (
	"strings"
	"testing"
)

func TestValidateCommand(t *testing.T) {
	valid := workflowFile(t, "greet.json", greetWorkflow)
	out, _, code := execCasare(t.Context(), t, "", "validate", valid)
	if code != 0 || !strings.HasSuffix(out, "greet.json: valid (5 nodes, 4 connections)\n") {
		t.Errorf("exit %d: %q", code, out)
	}

	invalid := workflowFile(t, "bad.json", `{"nodes": [
		{"id": "start", "type": "start"},
		{"id": "fetch", "type": "http_request", "config": {"method": "GET"}},
		{"id": "loop", "type": "while", "config": {"condition": "n <"}},
		{"id": "orphan", "type": "log", "config": {"message": "x"}}
	], "connections": [
		{"from": "start", "to": "fetch"}, {"from": "fetch", "to": "loop"}, {"from": "loop", "to": "ghost", "port": "body"}
	]}`)
	out, errOut, code := execCasare(t.Context(), t, "", "validate", invalid)
	want := strings.Join([]string{
		"node fetch: url: required field is missing",
		`node loop: condition: expression "n <": unexpected token EOF (1:3)`,
		`node loop: connections[2].to: connection to unknown node "ghost"`,
	}, "\n") + "\n"
	if code != 1 || out != want {
		t.Errorf("exit %d\nstdout:\n%s\nwant:\n%s", code, out, want)
	}
	if !strings.Contains(errOut, "bad.json: 3 problem(s)") {
		t.Errorf("stderr %q", errOut)
	}

	unparsable := workflowFile(t, "broken.json", "{\"nodes\": [\n  {\"id\": \"start\", \"kind\": \"start\"}\n]}")
	out, _, code = execCasare(t.Context(), t, "", "validate", unparsable)
	if code != 1 || !strings.Contains(out, `line 2, column 19: json: unknown field "kind"`) {
		t.Errorf("exit %d: %q", code, out)
	}
}
