package executor

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// nestedReduce is the expression from the hostile run: a loop in a loop
// over a list, 64 million iterations here, many seconds of CPU that no node timeout
// used to stop.
const nestedReduce = `{{ reduce(xs, #acc + reduce(xs, #acc + #, 0), 0) }}`

func intList(n int) []any {
	xs := make([]any, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}

// An expression stops at the deadline of its node: the run ends within a
// small multiple of the node timeout, not when the loop is done.
func TestExpressionStopsAtTheNodeTimeout(t *testing.T) {
	e, _ := testEngine(t)
	w := parseWorkflow(t, `{"nodes": [
		{"id": "start", "type": "start"},
		{"id": "sum", "type": "set_variable", "timeout": "100ms", "config": {"name": "s", "value": "`+nestedReduce+`"}}],
		"connections": [{"from": "start", "to": "sum"}]}`)
	var res Result
	runWithin(t, 2*time.Second, func() {
		res = e.Run(background(t), w, RunOptions{Vars: map[string]any{"xs": intList(8000)}})
	})
	if res.State != StateFailed || !strings.Contains(res.Error, "timed out after 100ms") {
		t.Fatalf("state %s, error %q; want failed, timed out after 100ms", res.State, res.Error)
	}
}

// With no node timeout, an evaluation still stops at its own time limit,
// and that is a business failure naming the limit.
func TestExpressionStopsAtItsOwnTimeLimit(t *testing.T) {
	e := NewEngine(EngineOptions{ExpressionTimeout: 100 * time.Millisecond})
	w := chain(Node{ID: "sum", Type: "set_variable", Config: cfg("name", "s", "value", nestedReduce)})
	var res Result
	runWithin(t, 2*time.Second, func() {
		res = e.Run(background(t), w, RunOptions{Vars: map[string]any{"xs": intList(8000)}})
	})
	if res.State != StateFailed || res.FailureKind != FailureBusiness || !strings.Contains(res.Error, "expression time limit exceeded") {
		t.Fatalf("state %s, kind %s, error %q; want a business failure naming the expression time limit", res.State, res.FailureKind, res.Error)
	}
}

// Expressions whose results grow much faster than their inputs are
// refused before they allocate. Each would allocate 100–300 MB (the
// hostile run's repeat(repeat("a",999999),999999) asked for a terabyte);
// the test process may allocate no more than about the budget.
func TestExpressionMemoryIsCheckedBeforeAllocating(t *testing.T) {
	vars := map[string]any{"s": strings.Repeat("a", 100_000), "f": 10000.0}
	for _, src := range []string{
		`repeat(repeat("a", 20000), 10000)`,
		`repeat(repeat("a", 20000), f)`, // a float count, as nested JSON numbers are
		`reduce(1..27, #acc + #acc, "a")`,
		`join(map(1..1000, s), "")`,
		`toJSON(reduce(1..21, [#acc, #acc], "x"))`,
		`string(reduce(1..23, [#acc, #acc], "x"))`,
		`replace(repeat("a", 2000), "a", s)`,
		`flatten(reduce(1..22, [#acc, #acc], [1]))`,
		`len(split(repeat("aaaaa", 1000000), ""))`,
		`reduce(1..2000, s, "")`, // the result shares s, but the size counts once
	} {
		t.Run(src, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			v, err := Evaluate(src, vars)
			runtime.ReadMemStats(&after)
			grown := after.TotalAlloc - before.TotalAlloc
			if src == `reduce(1..2000, s, "")` {
				if err != nil {
					t.Fatalf("a result that shares one string: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("evaluated to a %T; want the memory limit", v)
			}
			if !strings.Contains(err.Error(), "expression memory limit exceeded") {
				t.Errorf("error %q does not name the expression memory limit", err)
			}
			if grown > 2*DefaultExpressionMemory {
				t.Errorf("allocated %d MiB before refusing, over twice the %d MiB budget", grown>>20, DefaultExpressionMemory>>20)
			}
		})
	}
}

// A limit hit inside a node is not retried by the node's retry policy, nor
// caught by its error port: the same input hits the same limit.
func TestExpressionLimitIsNotRetried(t *testing.T) {
	e := NewEngine(EngineOptions{ExpressionMemory: 1 << 20})
	w := chain(Node{ID: "big", Type: "set_variable", Retry: &Retry{Max: 3, Backoff: "1ms"},
		Config: cfg("name", "s", "value", `{{ repeat("ab", 1000000) }}`)})
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{}))
	if res.State != StateFailed || res.FailureKind != FailureBusiness {
		t.Fatalf("state %s, kind %s, error %q; want a business failure", res.State, res.FailureKind, res.Error)
	}
	if n := len(rec.started()); n != 2 { // start, then big once
		t.Errorf("nodes started %v; a limit must not be retried", rec.started())
	}
}

func TestRunLimits(t *testing.T) {
	e, dir := testEngine(t)
	big := filepath.Join(dir, "big.txt")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", MaxFileReadBytes+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte(strings.Repeat("y", 5<<20)))
	}))
	defer srv.Close()

	cases := []struct {
		name, workflow, limit string
		within                time.Duration
	}{
		{"run timeout", `{"limits": {"timeout": "200ms"}, "nodes": [{"id": "start", "type": "start"},
			{"id": "wait", "type": "delay", "config": {"duration": "30s"}}], "connections": [{"from": "start", "to": "wait"}]}`,
			"limits.timeout", 5 * time.Second},
		{"step limit", `{"limits": {"max_steps": 50}, "nodes": [{"id": "start", "type": "start"},
			{"id": "loop", "type": "while", "config": {"condition": "true", "max_iterations": 1000}},
			{"id": "body", "type": "log", "config": {"message": "again"}}],
			"connections": [{"from": "start", "to": "loop"}, {"from": "loop", "to": "body", "port": "body"}]}`,
			"limits.max_steps", 0},
		{"file_read size", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "read", "type": "file_read", "config": {"path": "big.txt", "output_var": "text"}}], "connections": [{"from": "start", "to": "read"}]}`,
			"file_read size", 0},
		{"http body size", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "get", "type": "http_request", "config": {"url": "` + srv.URL + `", "output_var": "r"}}], "connections": [{"from": "start", "to": "get"}]}`,
			"http_request body size", 0},
		{"variable size", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "set", "type": "set_variable", "config": {"name": "v", "value": "{{ repeat(\"aaaaa\", 1000000) }}"}}], "connections": [{"from": "start", "to": "set"}]}`,
			"variable size", 0},
		{"all variables", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "loop", "type": "for_each", "config": {"items": "{{ 1..3 }}"}},
			{"id": "set", "type": "set_variable", "config": {"name": "v{{ item }}", "value": "{{ repeat(\"aaa\", 1000000) }}"}}],
			"connections": [{"from": "start", "to": "loop"}, {"from": "loop", "to": "set", "port": "body"}]}`,
			"variables size", 0},
		{"for_each items", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "loop", "type": "for_each", "config": {"items": "{{ many }}"}},
			{"id": "body", "type": "log", "config": {"message": "{{ item }}", "level": "debug"}}],
			"connections": [{"from": "start", "to": "loop"}, {"from": "loop", "to": "body", "port": "body"}]}`,
			"loop iterations", 0},
		{"repeated template", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "s", "type": "set_variable", "config": {"name": "s", "value": "{{ repeat(\"a\", 1000000) }}"}},
			{"id": "t", "type": "log", "config": {"message": "` + strings.Repeat("{{ s }}", 100) + `"}}],
			"connections": [{"from": "start", "to": "s"}, {"from": "s", "to": "t"}]}`,
			"expression memory", 0},
		{"repeated template in a list", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "s", "type": "set_variable", "config": {"name": "s", "value": "{{ repeat(\"a\", 1000000) }}"}},
			{"id": "t", "type": "set_variable", "config": {"name": "l", "value": [` + strings.Repeat(`"{{ s }}", `, 100) + `1]}}],
			"connections": [{"from": "start", "to": "s"}, {"from": "s", "to": "t"}]}`,
			"expression memory", 0},
		{"json_parse of many objects", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "s", "type": "set_variable", "config": {"name": "s", "value": "{{ \"[\" + repeat(\"{},\", 1000000) + \"{}]\" }}"}},
			{"id": "p", "type": "json_parse", "config": {"text": "{{ s }}", "output_var": "v"}}],
			"connections": [{"from": "start", "to": "s"}, {"from": "s", "to": "p"}]}`,
			"decoded JSON size", 0},
		{"for_each items size", `{"nodes": [{"id": "start", "type": "start"},
			{"id": "loop", "type": "for_each", "config": {"items": "{{ map(1..300000, repeat(\"a\", 100)) }}"}},
			{"id": "body", "type": "log", "config": {"message": "{{ item }}", "level": "debug"}}],
			"connections": [{"from": "start", "to": "loop"}, {"from": "loop", "to": "body", "port": "body"}]}`,
			"variable size", 0},
	}
	vars := map[string]any{"many": intList(MaxLoopIterations + 1)}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := parseWorkflow(t, tc.workflow)
			within := tc.within
			if within == 0 {
				within = 20 * time.Second
			}
			var res Result
			runWithin(t, within, func() { res = e.Run(background(t), w, RunOptions{Vars: vars}) })
			if res.State != StateFailed || res.FailureKind != FailureBusiness {
				t.Fatalf("state %s, kind %q, error %q; want a business failure", res.State, res.FailureKind, res.Error)
			}
			if want := tc.limit + " limit exceeded"; !strings.Contains(res.Error, want) {
				t.Errorf("error %q does not say %q", res.Error, want)
			}
		})
	}
}

// Configured values above the caps are refused at validation, naming the
// node and the field.
func TestValidationRefusesValuesAboveTheCaps(t *testing.T) {
	node := func(extra string) string {
		return fmt.Sprintf(`{"nodes": [{"id": "start", "type": "start"}, %s], "connections": [{"from": "start", "to": "n"}]}`, extra)
	}
	cases := []struct{ name, workflow, node, field string }{
		{"retry.max", node(`{"id": "n", "type": "log", "config": {"message": "x"}, "retry": {"max": 1000}}`), "n", "retry.max"},
		{"retry.backoff", node(`{"id": "n", "type": "log", "config": {"message": "x"}, "retry": {"max": 1, "backoff": "100h"}}`), "n", "retry.backoff"},
		{"retry.max_backoff", node(`{"id": "n", "type": "log", "config": {"message": "x"}, "retry": {"max": 1, "max_backoff": "100h"}}`), "n", "retry.max_backoff"},
		{"timeout", node(`{"id": "n", "type": "log", "config": {"message": "x"}, "timeout": "1000h"}`), "n", "timeout"},
		{"delay", node(`{"id": "n", "type": "delay", "config": {"duration": "100h"}}`), "n", "duration"},
		{"while", `{"nodes": [{"id": "start", "type": "start"}, {"id": "n", "type": "while", "config": {"condition": "true", "max_iterations": 1000000000}},
			{"id": "b", "type": "log", "config": {"message": "x"}}],
			"connections": [{"from": "start", "to": "n"}, {"from": "n", "to": "b", "port": "body"}]}`, "n", "max_iterations"},
		{"limits.timeout", `{"limits": {"timeout": "100h"}, "nodes": [{"id": "start", "type": "start"}]}`, "", "limits.timeout"},
		{"limits.max_steps", `{"limits": {"max_steps": 1000000000000}, "nodes": [{"id": "start", "type": "start"}]}`, "", "limits.max_steps"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAndValidate([]byte(tc.workflow))
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("got %v; want a validation error", err)
			}
			for _, p := range ve.Problems {
				if p.NodeID == tc.node && p.Field == tc.field && strings.Contains(p.Message, "cap") {
					return
				}
			}
			t.Fatalf("no problem for node %q field %s naming the cap in:\n%v", tc.node, tc.field, err)
		})
	}
}

// while sets index_var before it checks the condition, so a condition may
// use it from the first check on.
func TestWhileIndexVarIsSetBeforeTheFirstCheck(t *testing.T) {
	e, _ := testEngine(t)
	w := parseWorkflow(t, `{"nodes": [{"id": "start", "type": "start"},
		{"id": "loop", "type": "while", "config": {"condition": "i < 3", "index_var": "i"}},
		{"id": "body", "type": "set_variable", "config": {"name": "seen", "value": "{{ seen + string(i) }}"}}],
		"connections": [{"from": "start", "to": "loop"}, {"from": "loop", "to": "body", "port": "body"}]}`)
	res := e.Run(background(t), w, RunOptions{Vars: map[string]any{"seen": ""}})
	mustSucceed(t, res)
	if res.Variables["seen"] != "012" || res.Variables["i"] != 3 {
		t.Fatalf("seen = %v, i = %v; want 012 and 3", res.Variables["seen"], res.Variables["i"])
	}
}

// Log lines and a run's error go through Raft: a big variable in them is
// cut, not copied whole.
func TestMessagesAreCut(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "s", Type: "set_variable", Config: cfg("name", "s", "value", `{{ repeat("é", 1000000) }}`)},
		Node{ID: "say", Type: "log", Config: cfg("message", "{{ s }}")},
		Node{ID: "stop", Type: "fail", Config: cfg("message", "{{ s }}")},
	)
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{}))
	if res.State != StateFailed || len(res.Error) > maxMessageBytes+100 || !strings.Contains(res.Error, "more bytes cut") {
		t.Fatalf("state %s, error of %d bytes; want failed with the message cut", res.State, len(res.Error))
	}
	logs := rec.logs()
	if len(logs) != 1 || len(logs[0]) > maxMessageBytes+100 || !utf8.ValidString(logs[0]) {
		t.Fatalf("log lines: %d, first %d bytes; want one line, cut at a character", len(logs), len(logs[0]))
	}
}
