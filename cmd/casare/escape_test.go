package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
)

func TestEscapeCell(t *testing.T) {
	cases := map[string]string{
		"plain Ölpreis 請求書 ✅":   "plain Ölpreis 請求書 ✅",
		"\x1b[2J\x1b[31mred":    `\x1b[2J\x1b[31mred`,
		"nul\x00tab\tnl\n":      `nul\x00tab\tnl\n`,
		"invoice\u202egpj.exe":  `invoice\u202egpj.exe`,
		"iso\u2066late\u2069":   `iso\u2066late\u2069`,
		"c1\u009bcsi":           `c1\u009bcsi`,
		"bad\xffutf8\xc3":       `bad\xffutf8\xc3`,
		"replacement \ufffd ok": "replacement \ufffd ok",
	}
	for in, want := range cases {
		if got := escapeCell(in); got != want {
			t.Errorf("escapeCell(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapeText("line one\nline \x1b two"); got != "line one\nline \\x1b two" {
		t.Errorf("escapeText keeps newlines only: %q", got)
	}
}

// Text a workflow or a user supplied reaches the terminal escaped: a log
// line or an error that carries an escape sequence cannot clear or
// recolour the screen.
func TestCLIPrintsUserTextEscaped(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	mustRun(t, "submit", writeFile(t, "hello.json", helloWorkflow), "--server", node.URL)
	job := claimWithProgress(t, node, `{"completed":["start"],"variables":{"note":"\u001b]0;owned\u0007"}}`,
		"\x1b[2J\x1b[Hscreen cleared", "reversed \u202etxt.exe")

	for _, args := range [][]string{{"jobs", "get", job.ID}, {"jobs", "logs", job.ID}} {
		out := mustRun(t, append(args, "--server", node.URL)...)
		if strings.ContainsAny(out, "\x1b\x07\u202e") {
			t.Errorf("casare %s printed raw control characters: %q", strings.Join(args, " "), out)
		}
		if !strings.Contains(out, `\x1b[2J\x1b[Hscreen cleared`) || !strings.Contains(out, `reversed \u202etxt.exe`) {
			t.Errorf("casare %s does not show the escaped text:\n%s", strings.Join(args, " "), out)
		}
	}
	_, _, err := runCLI(t, "jobs", "cancel", job.ID, "--server", node.URL, "--reason", "stop \x1b[5m now")
	out := mustRun(t, "jobs", "get", job.ID, "--server", node.URL)
	if err != nil || strings.Contains(out, "\x1b") || !strings.Contains(out, `stop \x1b[5m now`) {
		t.Errorf("cancel reason (%v):\n%s", err, out)
	}
}

// Node and robot names and tags given as flags are checked before
// anything starts or dials.
func TestRobotFlagsRefuseForbiddenCharacters(t *testing.T) {
	if err := checkRobotFlags("vm-7", []string{"sap", "eu"}); err != nil {
		t.Errorf("plain name and tags: %v", err)
	}
	if err := checkRobotFlags("vm\x1b]0;x\x07", nil); err == nil || !strings.Contains(err.Error(), "--name: must not contain control characters") {
		t.Errorf("escape in --name: %v", err)
	}
	if err := checkRobotFlags("vm", []string{"ok", "sap\u202e"}); err == nil || !strings.Contains(err.Error(), "--tags[1]: must not contain bidirectional") {
		t.Errorf("bidi in --tags: %v", err)
	}
	_, _, err := runCLI(t, "robot", "connect", "127.0.0.1:1", "--token", "casare_id_secret", "--tags", "a\x00")
	if err == nil || !strings.Contains(err.Error(), "--tags[0]: must not contain control characters") {
		t.Errorf("robot connect --tags with NUL: %v", err)
	}
}

// -o json output carries the same characters escaped, as valid JSON.
func TestPrintJSONEscapes(t *testing.T) {
	var out strings.Builder
	in := map[string]string{"name": "a\u202eb\u009bc\x7fd\x1b"}
	if err := printJSON(&out, in); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(out.String(), "\u202e\u009b\x7f\x1b") {
		t.Errorf("raw characters in %q", out.String())
	}
	var back map[string]string
	if err := json.Unmarshal([]byte(out.String()), &back); err != nil || back["name"] != in["name"] {
		t.Errorf("escaped JSON %q decodes to %q (%v)", out.String(), back, err)
	}
}
