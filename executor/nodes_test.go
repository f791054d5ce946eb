package executor

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// nodeCase runs start followed by nodes and checks the outcome.
type nodeCase struct {
	name  string
	nodes []Node
	// conns replaces the linear chain when the case needs branches.
	conns     []Connection
	vars      map[string]any
	state     string         // default: succeeded
	kind      string         // expected failure kind
	errSubstr string         // expected in Result.Error
	want      map[string]any // expected variables (a subset)
	logs      []string       // expected log lines, in order
	check     func(t *testing.T, res Result)
}

func runNodeCases(t *testing.T, e *Engine, cases []nodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := chain(tc.nodes...)
			if tc.conns != nil {
				w.Connections = tc.conns
			}
			if err := Validate(w); err != nil {
				t.Fatalf("invalid test workflow:\n%v", err)
			}
			var rec recorder
			res := e.Run(background(t), w, rec.options(RunOptions{Vars: tc.vars}))
			wantState := tc.state
			if wantState == "" {
				wantState = StateSucceeded
			}
			if res.State != wantState {
				t.Fatalf("state = %s, want %s (error: %s)", res.State, wantState, res.Error)
			}
			if tc.kind != "" && res.FailureKind != tc.kind {
				t.Errorf("failure kind = %q, want %q", res.FailureKind, tc.kind)
			}
			if !strings.Contains(res.Error, tc.errSubstr) {
				t.Errorf("error = %q, want it to contain %q", res.Error, tc.errSubstr)
			}
			for k, want := range tc.want {
				if got := res.Variables[k]; !jsonEqual(t, got, want) {
					t.Errorf("variable %s = %s, want %s", k, showJSON(got), showJSON(want))
				}
			}
			if tc.logs != nil {
				if got := rec.logs(); !jsonEqual(t, got, tc.logs) {
					t.Errorf("logs = %q, want %q", got, tc.logs)
				}
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

func TestControlAndDataNodes(t *testing.T) {
	e, _ := testEngine(t)
	runNodeCases(t, e, []nodeCase{
		{name: "start alone"},
		{
			name:  "end succeeded",
			nodes: []Node{{ID: "end", Type: "end", Config: cfg("message", "all done")}},
			logs:  []string{"all done"},
		},
		{
			name:      "end failed is a business failure",
			nodes:     []Node{{ID: "end", Type: "end", Config: cfg("status", "failed", "message", "invoice {{ n }} rejected")}},
			vars:      map[string]any{"n": 7},
			state:     StateFailed,
			kind:      FailureBusiness,
			errSubstr: "invoice 7 rejected",
			check: func(t *testing.T, res Result) {
				if res.FailedNode != "end" {
					t.Errorf("failed node = %q", res.FailedNode)
				}
			},
		},
		{
			name:      "fail defaults to business",
			nodes:     []Node{{ID: "f", Type: "fail", Config: cfg("message", "no stock")}},
			state:     StateFailed,
			kind:      FailureBusiness,
			errSubstr: "no stock",
		},
		{
			name:      "fail as application failure",
			nodes:     []Node{{ID: "f", Type: "fail", Config: cfg("message", "portal down", "kind", "application")}},
			state:     StateFailed,
			kind:      FailureApplication,
			errSubstr: "portal down",
		},
		{
			name: "set_variable literal, typed and text values",
			nodes: []Node{
				{ID: "a", Type: "set_variable", Config: cfg("name", "literal", "value", map[string]any{"k": []any{1.0, "two"}})},
				{ID: "b", Type: "set_variable", Config: cfg("name", "list", "value", "{{ filter(nums, # > 1) }}")},
				{ID: "c", Type: "set_variable", Config: cfg("name", "text", "value", "n={{ len(nums) }} first={{ nums[0] }}")},
				{ID: "d", Type: "set_variable", Config: cfg("name", "nested", "value", map[string]any{"sum": "{{ sum(nums) }}", "tags": []any{"x", "{{ upper('y') }}"}})},
				{ID: "e", Type: "set_variable", Config: cfg("name", "number", "value", "{{ 1.5 * 2 }}")},
			},
			vars: map[string]any{"nums": []any{1.0, 2.0, 3.0}},
			want: map[string]any{
				"literal": map[string]any{"k": []any{1, "two"}},
				"list":    []any{2, 3},
				"text":    "n=3 first=1",
				"nested":  map[string]any{"sum": 6, "tags": []any{"x", "Y"}},
				"number":  3,
			},
		},
		{
			name:      "set_variable with a failing expression",
			nodes:     []Node{{ID: "a", Type: "set_variable", Config: cfg("name", "x", "value", "{{ missing.field }}")}},
			state:     StateFailed,
			kind:      FailureApplication,
			errSubstr: "node a: value: expression {{ missing.field }}",
		},
		{
			name: "log levels and templates",
			nodes: []Node{
				{ID: "l1", Type: "log", Config: cfg("message", "hello {{ who }}")},
				{ID: "l2", Type: "log", Config: cfg("message", "careful", "level", "warn")},
			},
			vars: map[string]any{"who": "robot"},
			logs: []string{"hello robot", "careful"},
		},
		{
			name: "if takes the true branch",
			nodes: []Node{
				{ID: "check", Type: "if", Config: cfg("condition", "amount > 100")},
				{ID: "big", Type: "set_variable", Config: cfg("name", "path", "value", "big")},
				{ID: "small", Type: "set_variable", Config: cfg("name", "path", "value", "small")},
			},
			conns: []Connection{
				{From: "start", To: "check"},
				{From: "check", To: "big", Port: "true"},
				{From: "check", To: "small", Port: "false"},
			},
			vars: map[string]any{"amount": 250},
			want: map[string]any{"path": "big"},
		},
		{
			name: "if takes the false branch, braces allowed",
			nodes: []Node{
				{ID: "check", Type: "if", Config: cfg("condition", "{{ amount > 100 }}")},
				{ID: "big", Type: "set_variable", Config: cfg("name", "path", "value", "big")},
				{ID: "small", Type: "set_variable", Config: cfg("name", "path", "value", "small")},
			},
			conns: []Connection{
				{From: "start", To: "check"},
				{From: "check", To: "big", Port: "true"},
				{From: "check", To: "small", Port: "false"},
			},
			vars: map[string]any{"amount": 5},
			want: map[string]any{"path": "small"},
		},
		{
			name:      "if with a non-boolean condition",
			nodes:     []Node{{ID: "check", Type: "if", Config: cfg("condition", "amount")}},
			vars:      map[string]any{"amount": 5},
			state:     StateFailed,
			errSubstr: "condition: want a boolean, got a number",
		},
		{
			name:  "delay",
			nodes: []Node{{ID: "wait", Type: "delay", Config: cfg("duration", "{{ pause }}")}},
			vars:  map[string]any{"pause": "10ms"},
		},
		{
			name:  "json_parse",
			nodes: []Node{{ID: "p", Type: "json_parse", Config: cfg("text", `{"ids": [1, 2], "ok": true}`, "output_var", "doc")}},
			want:  map[string]any{"doc": map[string]any{"ids": []any{1, 2}, "ok": true}},
		},
		{
			name:      "json_parse of bad JSON",
			nodes:     []Node{{ID: "p", Type: "json_parse", Config: cfg("text", `{"ids": `, "output_var", "doc")}},
			state:     StateFailed,
			errSubstr: "invalid JSON",
		},
	})
}

func TestFileNodes(t *testing.T) {
	e, dir := testEngine(t)
	runNodeCases(t, e, []nodeCase{
		{
			name: "write then read, relative to the work dir",
			nodes: []Node{
				{ID: "w", Type: "file_write", Config: cfg("path", "out/{{ name }}.txt", "content", "hello {{ name }}")},
				{ID: "r", Type: "file_read", Config: cfg("path", "out/{{ name }}.txt", "output_var", "text")},
			},
			vars: map[string]any{"name": "report"},
			want: map[string]any{"text": "hello report"},
			check: func(t *testing.T, _ Result) {
				if _, err := os.Stat(filepath.Join(dir, "out", "report.txt")); err != nil {
					t.Error(err)
				}
			},
		},
		{
			name: "append, and non-strings are written as JSON",
			nodes: []Node{
				{ID: "w1", Type: "file_write", Config: cfg("path", "log.txt", "content", "a\n")},
				{ID: "w2", Type: "file_write", Config: cfg("path", "log.txt", "content", "b\n", "append", true)},
				{ID: "w3", Type: "file_write", Config: cfg("path", "data.json", "content", "{{ {'n': 1} }}")},
				{ID: "r1", Type: "file_read", Config: cfg("path", "log.txt", "output_var", "log")},
				{ID: "r2", Type: "file_read", Config: cfg("path", filepath.Join(dir, "data.json"), "output_var", "data")},
			},
			want: map[string]any{"log": "a\nb\n", "data": `{"n":1}`},
		},
		{
			name:      "read a missing file",
			nodes:     []Node{{ID: "r", Type: "file_read", Config: cfg("path", "nope.txt", "output_var", "x")}},
			state:     StateFailed,
			kind:      FailureApplication,
			errSubstr: "no such file",
		},
	})
}

func TestShellNode(t *testing.T) {
	e, dir := testEngine(t)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	runNodeCases(t, e, []nodeCase{
		{
			name:  "shell command line",
			nodes: []Node{{ID: "sh", Type: "shell", Config: cfg("command", "echo {{ word }} | tr a-z A-Z; echo oops >&2", "output_var", "out")}},
			vars:  map[string]any{"word": "hello"},
			want:  map[string]any{"out": map[string]any{"stdout": "HELLO\n", "stderr": "oops\n", "exit_code": 0}},
		},
		{
			name:  "program with args bypasses the shell",
			nodes: []Node{{ID: "sh", Type: "shell", Config: cfg("command", "printf", "args", []any{"%s|%s", "a b", "$HOME"}, "output_var", "out")}},
			check: func(t *testing.T, res Result) {
				out := res.Variables["out"].(map[string]any)
				if out["stdout"] != "a b|$HOME" {
					t.Errorf("stdout = %q", out["stdout"])
				}
			},
		},
		{
			name:  "dir, env and stdin",
			nodes: []Node{{ID: "sh", Type: "shell", Config: cfg("command", `echo "$(basename "$PWD") $GREETING $(cat)"`, "dir", "sub", "env", map[string]any{"GREETING": "hi"}, "stdin", "from stdin", "output_var", "out")}},
			check: func(t *testing.T, res Result) {
				if got := res.Variables["out"].(map[string]any)["stdout"]; got != "sub hi from stdin\n" {
					t.Errorf("stdout = %q", got)
				}
			},
		},
		{
			name: "non-zero exit fails the node after storing output",
			nodes: []Node{
				{ID: "sh", Type: "shell", Config: cfg("command", "echo partial; echo broken >&2; exit 3", "output_var", "out")},
				{ID: "handler", Type: "set_variable", Config: cfg("name", "caught", "value", "{{ error }} @ {{ error_node }}")},
			},
			conns: []Connection{{From: "start", To: "sh"}, {From: "sh", To: "handler", Port: "error"}},
			want: map[string]any{
				"out":    map[string]any{"stdout": "partial\n", "stderr": "broken\n", "exit_code": 3},
				"caught": "echo partial; echo broken >&2; exit 3: exit status 3: broken @ sh",
			},
		},
		{
			name:      "missing program",
			nodes:     []Node{{ID: "sh", Type: "shell", Config: cfg("command", "/nonexistent/tool", "args", []any{})}},
			state:     StateFailed,
			errSubstr: "no such file",
		},
	})
}

func TestHTTPRequestNode(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/json":
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Add("X-Multi", "a")
			w.Header().Add("X-Multi", "b")
			io.WriteString(w, `{"items": [1, 2], "q": "`+r.URL.Query().Get("q")+`"}`)
		case "/echo":
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{
				"method":       r.Method,
				"body":         string(body),
				"content_type": r.Header.Get("Content-Type"),
				"api_key":      r.Header.Get("X-Api-Key"),
			})
		case "/text":
			io.WriteString(w, "plain text")
		default:
			http.Error(w, "not here", http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	e, _ := testEngine(t)
	runNodeCases(t, e, []nodeCase{
		{
			name:  "GET JSON",
			nodes: []Node{{ID: "get", Type: "http_request", Config: cfg("url", "{{ base }}/json?q={{ term }}", "output_var", "resp")}},
			vars:  map[string]any{"base": srv.URL, "term": "invoices"},
			check: func(t *testing.T, res Result) {
				resp := res.Variables["resp"].(map[string]any)
				if !jsonEqual(t, resp["status"], 200) {
					t.Errorf("status = %v", resp["status"])
				}
				if !jsonEqual(t, resp["body"], map[string]any{"items": []any{1, 2}, "q": "invoices"}) {
					t.Errorf("body = %s", showJSON(resp["body"]))
				}
				if h := resp["headers"].(map[string]any)["X-Multi"]; h != "a, b" {
					t.Errorf("X-Multi = %v", h)
				}
			},
		},
		{
			name: "POST a JSON body with headers",
			nodes: []Node{{ID: "post", Type: "http_request", Config: cfg(
				"method", "post", "url", srv.URL+"/echo",
				"headers", map[string]any{"X-Api-Key": "{{ key }}"},
				"body", map[string]any{"id": "{{ id }}"},
				"output_var", "resp")}},
			vars: map[string]any{"key": "k-1", "id": 42},
			check: func(t *testing.T, res Result) {
				body := res.Variables["resp"].(map[string]any)["body"]
				want := map[string]any{"method": "POST", "body": `{"id":42}`, "content_type": "application/json", "api_key": "k-1"}
				if !jsonEqual(t, body, want) {
					t.Errorf("server saw %s", showJSON(body))
				}
			},
		},
		{
			name:  "text response",
			nodes: []Node{{ID: "get", Type: "http_request", Config: cfg("url", srv.URL+"/text", "output_var", "resp")}},
			check: func(t *testing.T, res Result) {
				if body := res.Variables["resp"].(map[string]any)["body"]; body != "plain text" {
					t.Errorf("body = %v", body)
				}
			},
		},
		{
			name:      "error status fails the node",
			nodes:     []Node{{ID: "get", Type: "http_request", Config: cfg("url", srv.URL+"/missing", "output_var", "resp")}},
			state:     StateFailed,
			kind:      FailureApplication,
			errSubstr: "404 Not Found",
			check: func(t *testing.T, res Result) {
				if !jsonEqual(t, res.Variables["resp"].(map[string]any)["status"], 404) {
					t.Error("output not stored before failing")
				}
			},
		},
		{
			name:  "error status allowed",
			nodes: []Node{{ID: "get", Type: "http_request", Config: cfg("url", srv.URL+"/missing", "output_var", "resp", "fail_on_error_status", false)}},
			check: func(t *testing.T, res Result) {
				if !jsonEqual(t, res.Variables["resp"].(map[string]any)["status"], 404) {
					t.Errorf("resp = %s", showJSON(res.Variables["resp"]))
				}
			},
		},
	})
}
