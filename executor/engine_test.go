package executor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

func TestRetryUntilSuccess(t *testing.T) {
	e, dir := testEngine(t)
	// The command fails until it has run three times.
	w := chain(Node{
		ID:    "flaky",
		Type:  "shell",
		Retry: &Retry{Max: 3, Backoff: "5ms"},
		Config: cfg("command", `n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; [ $n -ge 3 ]`,
			"dir", dir),
	})
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{}))
	mustSucceed(t, res)
	if got := rec.started(); strings.Join(got, ",") != "start,flaky,flaky,flaky" {
		t.Errorf("started = %v", got)
	}
	var waits []time.Duration
	for _, ev := range rec.events {
		if ev.Kind == EventNodeRetrying {
			waits = append(waits, ev.Duration)
		}
	}
	if len(waits) != 2 || waits[0] != 5*time.Millisecond || waits[1] != 10*time.Millisecond {
		t.Errorf("retry waits = %v, want exponential backoff [5ms 10ms]", waits)
	}
}

func TestRetryExhaustedThenErrorPort(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "bad", Type: "shell", Retry: &Retry{Max: 2, Backoff: "1ms"}, Config: cfg("command", "exit 1")},
		Node{ID: "handler", Type: "set_variable", Config: cfg("name", "handled", "value", "{{ error_node }}")},
	)
	w.Connections[1].Port = "error"
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{}))
	mustSucceed(t, res)
	if got := strings.Count(strings.Join(rec.started(), ","), "bad"); got != 3 {
		t.Errorf("bad ran %d times, want 3 (1 + 2 retries)", got)
	}
	if res.Variables["handled"] != "bad" || !strings.Contains(res.Variables["error"].(string), "exit status 1") {
		t.Errorf("variables = %s", showJSON(res.Variables))
	}
}

func TestBusinessFailureIsNotRetried(t *testing.T) {
	e, _ := testEngine(t)
	child := map[string]any{
		"name": "child",
		"nodes": []any{
			map[string]any{"id": "start", "type": "start"},
			map[string]any{"id": "reject", "type": "end", "config": map[string]any{"status": "failed", "message": "customer unknown"}},
		},
		"connections": []any{map[string]any{"from": "start", "to": "reject"}},
	}
	w := chain(Node{ID: "call", Type: "subworkflow", Retry: &Retry{Max: 3, Backoff: "1ms"}, Config: cfg("workflow", child)})
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{}))
	if res.State != StateFailed || res.FailureKind != FailureBusiness {
		t.Fatalf("state %s kind %q, want a business failure: %s", res.State, res.FailureKind, res.Error)
	}
	if !strings.Contains(res.Error, "customer unknown") || res.FailedNode != "call" {
		t.Errorf("error %q at node %q", res.Error, res.FailedNode)
	}
	if got := strings.Count(strings.Join(rec.started(), ","), ",call,"); got != 1 {
		t.Errorf("started = %v, want the subworkflow node once", rec.started())
	}
}

func TestNodeTimeout(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "slow", Type: "delay", Timeout: "50ms", Config: cfg("duration", "10s")},
		Node{ID: "handler", Type: "set_variable", Config: cfg("name", "caught", "value", "{{ error }}")},
	)
	w.Connections[1].Port = "error"
	var res Result
	runWithin(t, 5*time.Second, func() { res = e.Run(background(t), w, RunOptions{}) })
	mustSucceed(t, res)
	if msg, _ := res.Variables["caught"].(string); !strings.HasPrefix(msg, "timed out after 50ms") {
		t.Errorf("error = %q", msg)
	}

	// Uncaught, a timeout is an application failure.
	w = chain(Node{ID: "slow", Type: "shell", Timeout: "100ms", Config: cfg("command", "sleep 10")})
	runWithin(t, 5*time.Second, func() { res = e.Run(background(t), w, RunOptions{}) })
	if res.State != StateFailed || res.FailureKind != FailureApplication || !strings.Contains(res.Error, "timed out after 100ms") {
		t.Errorf("got %s/%s: %s", res.State, res.FailureKind, res.Error)
	}
}

func TestCancellationAbortsLongNodes(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(hang); srv.Close() })
	e, dir := testEngine(t)
	pidFile := filepath.Join(dir, "pid")

	cases := []struct {
		name string
		node Node
	}{
		{"delay", Node{ID: "long", Type: "delay", Config: cfg("duration", "1h")}},
		{"http", Node{ID: "long", Type: "http_request", Config: cfg("url", srv.URL)}},
		// The sleep runs in a child of the shell, which must die too.
		{"shell", Node{ID: "long", Type: "shell", Config: cfg("command", "sleep 60 & echo $! > "+pidFile+"; wait")}},
		{"retry backoff", Node{ID: "long", Type: "shell", Retry: &Retry{Max: 1, Backoff: "1h"}, Config: cfg("command", "exit 1")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(background(t))
			w := chain(tc.node, Node{ID: "after", Type: "set_variable", Config: cfg("name", "after", "value", true)})
			var rec recorder
			opts := rec.options(RunOptions{})
			opts.OnEvent = func(ev Event) {
				if ev.NodeID == "long" && ev.Kind == EventNodeStarted {
					time.AfterFunc(100*time.Millisecond, cancel)
				}
			}
			var res Result
			runWithin(t, 5*time.Second, func() { res = e.Run(ctx, w, opts) })
			if res.State != StateCancelled {
				t.Fatalf("state = %s (%s), want cancelled", res.State, res.Error)
			}
			if res.Checkpoint.Next != "long" {
				t.Errorf("checkpoint resumes at %q, want the cut-off node", res.Checkpoint.Next)
			}
			if _, ran := res.Variables["after"]; ran {
				t.Error("a node ran after cancellation")
			}
		})
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	testutil.WaitFor(t, 2*time.Second, fmt.Sprintf("the shell's child process %d to exit after cancellation", pid), func() bool {
		return processGone(pid)
	})
}

// processGone reports whether pid has exited. A zombie counts as exited:
// once its parent is gone, reaping it is up to init.
func processGone(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// The state follows the parenthesized command name.
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && strings.HasPrefix(string(stat[i+1:]), " Z")
}

func TestCancellationBetweenNodes(t *testing.T) {
	e, _ := testEngine(t)
	w := linearWorkflow(20)
	ctx, cancel := context.WithCancel(background(t))
	res := e.Run(ctx, w, RunOptions{BeforeNode: func(_ context.Context, id string, _ map[string]any) error {
		if id == "n10" {
			cancel()
		}
		return nil
	}})
	if res.State != StateCancelled || res.Checkpoint.Next != "n11" {
		t.Fatalf("state %s, next %q: %s", res.State, res.Checkpoint.Next, res.Error)
	}
	if !jsonEqual(t, res.Variables["counter"], 11) {
		t.Errorf("counter = %v, want 11", res.Variables["counter"])
	}
}

func TestBeforeNodeStopsRun(t *testing.T) {
	e, _ := testEngine(t)
	w := linearWorkflow(3)
	res := e.Run(background(t), w, RunOptions{BeforeNode: func(_ context.Context, id string, _ map[string]any) error {
		if id == "n1" {
			return context.Canceled
		}
		return nil
	}})
	if res.State != StateCancelled || res.Checkpoint.Next != "n1" {
		t.Errorf("quit: state %s next %q", res.State, res.Checkpoint.Next)
	}
	res = e.Run(background(t), w, RunOptions{BeforeNode: func(_ context.Context, id string, _ map[string]any) error {
		if id == "n1" {
			return errors.New("policy forbids n1")
		}
		return nil
	}})
	if res.State != StateFailed || !strings.Contains(res.Error, "policy forbids n1") {
		t.Errorf("error: state %s: %s", res.State, res.Error)
	}
}

func TestEvents(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "hello", Type: "log", Config: cfg("message", "hi", "level", "debug")},
		Node{ID: "broken", Type: "json_parse", Config: cfg("text", "{", "output_var", "x")},
	)
	var rec recorder
	res := e.Run(background(t), w, rec.options(RunOptions{}))
	if res.State != StateFailed {
		t.Fatalf("state %s", res.State)
	}
	var got []string
	for _, ev := range rec.events {
		if ev.Time.IsZero() || ev.NodeType == "" {
			t.Errorf("incomplete event %+v", ev)
		}
		got = append(got, string(ev.Kind)+":"+ev.NodeID)
	}
	want := "node_started:start node_finished:start node_started:hello log:hello node_finished:hello node_started:broken node_failed:broken"
	if strings.Join(got, " ") != want {
		t.Errorf("events:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestRunRejectsInvalidWorkflow(t *testing.T) {
	e, _ := testEngine(t)
	res := e.Run(background(t), &Workflow{Name: "x", Nodes: []Node{{ID: "a", Type: "nope"}}}, RunOptions{})
	if res.State != StateFailed || res.FailureKind != FailureApplication || !strings.Contains(res.Error, `unknown node type "nope"`) {
		t.Errorf("got %s/%s: %s", res.State, res.FailureKind, res.Error)
	}
}

func TestInputsOverrideDefaults(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(Node{ID: "s", Type: "set_variable", Config: cfg("name", "msg", "value", "{{ greeting }} {{ job_id }}")})
	w.Variables = map[string]any{"greeting": "hello"}
	res := e.Run(background(t), w, RunOptions{Vars: map[string]any{"greeting": "hi", "job_id": "j-1"}})
	mustSucceed(t, res)
	if res.Variables["msg"] != "hi j-1" {
		t.Errorf("msg = %v", res.Variables["msg"])
	}
	if w.Variables["greeting"] != "hello" {
		t.Error("the run modified the workflow's variables")
	}
}

func TestConcurrentRunsShareAnEngine(t *testing.T) {
	e, _ := testEngine(t)
	w, vars := forEachWorkflow(200)
	results := make(chan Result, 8)
	for range cap(results) {
		go func() { results <- e.Run(background(t), w, RunOptions{Vars: vars, OnCheckpoint: func(Checkpoint) {}}) }()
	}
	for range cap(results) {
		res := <-results
		mustSucceed(t, res)
		if !jsonEqual(t, res.Variables["sum"], 199*200/2) {
			t.Errorf("sum = %v", res.Variables["sum"])
		}
	}
}
