package robot

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/internal/testutil"
)

// TestDebugSessionStepsIntoAndOverSubworkflows drives a real engine run
// through the session the way heartbeats do: stops are taken from it,
// commands given to it.
func TestDebugSessionStepsIntoAndOverSubworkflows(t *testing.T) {
	dir := t.TempDir()
	sub := `{"name":"sub","nodes":[{"id":"start","type":"start"},
	 {"id":"inner","type":"set_variable","config":{"name":"x","value":"in"}},{"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"inner"},{"from":"inner","to":"end"}]}`
	if err := os.WriteFile(filepath.Join(dir, "sub.json"), []byte(sub), 0o600); err != nil {
		t.Fatal(err)
	}
	wf, err := executor.ParseAndValidate([]byte(`{"name":"outer","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"call","type":"subworkflow","config":{"path":"sub.json"}},
	 {"id":"again","type":"subworkflow","config":{"path":"sub.json"}},
	 {"id":"after","type":"set_variable","config":{"name":"done","value":"yes"}},
	 {"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"call"},{"from":"call","to":"again"},{"from":"again","to":"after"},{"from":"after","to":"end"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	nudge := make(chan struct{}, 1)
	d := newDebugSession(consensus.DebugOptions{Breakpoints: []string{"call"}, PauseTimeout: consensus.Duration(time.Minute)}, nudge, slog.New(slog.DiscardHandler))
	e := executor.NewEngine(executor.EngineOptions{WorkDir: dir})
	done := make(chan executor.Result, 1)
	go func() { done <- e.Run(t.Context(), wf, executor.RunOptions{BeforeNode: d.beforeNode}) }()

	var seq uint64
	expectStop := func(node, reason string, depth int) {
		t.Helper()
		var r *consensus.DebugReport
		testutil.Eventually(t, 10*time.Second, "a stop at "+node, func() (bool, error) {
			if r = d.take(); r != nil && !r.Paused {
				r = nil // a resumption report
			}
			return r != nil, nil
		})
		if r.Node != node || r.Reason != reason || len(r.Stack) != depth {
			t.Fatalf("stopped at %s (%s, stack %+v), want %s (%s, depth %d)", r.Node, r.Reason, r.Stack, node, reason, depth)
		}
		if depth > 0 && r.Stack[0].NodeID != "call" {
			t.Fatalf("call stack %+v", r.Stack)
		}
	}
	send := func(action string) {
		seq++
		d.mu.Lock()
		stop := d.stops
		d.mu.Unlock()
		// A stale command (an earlier stop's) is ignored.
		d.command(consensus.DebugCommand{Seq: seq, Stop: stop - 1, Action: consensus.DebugContinue})
		seq++
		d.command(consensus.DebugCommand{Seq: seq, Stop: stop, Action: action})
	}
	expectStop("call", "breakpoint", 0)
	send(consensus.DebugStepInto)
	expectStop("call/start", "step", 1)
	send(consensus.DebugStep)
	expectStop("call/inner", "step", 1)
	send(consensus.DebugStep)
	expectStop("call/end", "step", 1)
	send(consensus.DebugStep)
	expectStop("again", "step", 0)
	send(consensus.DebugStep) // over the second call
	expectStop("after", "step", 0)
	send(consensus.DebugContinue)
	select {
	case res := <-done:
		if res.State != executor.StateSucceeded || res.Variables["done"] != "yes" {
			t.Fatalf("run ended %s: %s", res.State, res.Error)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the run did not end after continue")
	}
}

func TestDebugSessionTimesOut(t *testing.T) {
	d := newDebugSession(consensus.DebugOptions{Breakpoints: []string{"n"}, PauseTimeout: consensus.Duration(10 * time.Millisecond)},
		make(chan struct{}, 1), slog.New(slog.DiscardHandler))
	if err := d.beforeNode(context.Background(), "n", map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if r := d.take(); r == nil || r.Detached == "" || r.Paused {
		t.Fatalf("after the timeout: %+v", r)
	}
	if reason, stop := d.stopAt("n", 0); stop {
		t.Fatalf("a detached session stops again (%s)", reason)
	}
}
