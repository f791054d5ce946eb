package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"
)

// chain builds a workflow that runs start and then nodes in order.
func chain(nodes ...Node) *Workflow {
	w := &Workflow{Name: "test", Nodes: []Node{{ID: "start", Type: "start"}}}
	prev := "start"
	for _, n := range nodes {
		w.Nodes = append(w.Nodes, n)
		w.Connections = append(w.Connections, Connection{From: prev, To: n.ID})
		prev = n.ID
	}
	return w
}

func cfg(kv ...any) map[string]any {
	m := make(map[string]any, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

func parseWorkflow(t testing.TB, src string) *Workflow {
	t.Helper()
	w, err := ParseAndValidate([]byte(src))
	if err != nil {
		t.Fatalf("workflow does not validate:\n%v", err)
	}
	return w
}

// testEngine returns an engine whose relative paths resolve in a fresh
// temporary directory, and that directory.
func testEngine(t testing.TB) (*Engine, string) {
	t.Helper()
	dir := t.TempDir()
	return NewEngine(EngineOptions{WorkDir: dir, Logger: slog.New(slog.DiscardHandler)}), dir
}

// recorder collects a run's events and checkpoints.
type recorder struct {
	mu          sync.Mutex
	events      []Event
	checkpoints []Checkpoint
}

func (r *recorder) options(opts RunOptions) RunOptions {
	opts.OnEvent = func(e Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, e)
	}
	opts.OnCheckpoint = func(c Checkpoint) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.checkpoints = append(r.checkpoints, c)
	}
	return opts
}

// started lists the ids of nodes that started, in order, one per attempt.
func (r *recorder) started() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for _, e := range r.events {
		if e.Kind == EventNodeStarted {
			ids = append(ids, e.NodeID)
		}
	}
	return ids
}

func (r *recorder) logs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for _, e := range r.events {
		if e.Kind == EventLog {
			lines = append(lines, e.Message)
		}
	}
	return lines
}

func mustSucceed(t testing.TB, res Result) {
	t.Helper()
	if res.State != StateSucceeded {
		t.Fatalf("run %s: %s", res.State, res.Error)
	}
}

// jsonEqual compares values the way a checkpoint round trip sees them, so
// that an int and a float64 of the same number are equal.
func jsonEqual(t testing.TB, got, want any) bool {
	t.Helper()
	return reflect.DeepEqual(roundTrip(t, got), roundTrip(t, want))
}

func roundTrip(t testing.TB, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func runWithin(t testing.TB, limit time.Duration, f func()) {
	t.Helper()
	start := time.Now()
	f()
	if took := time.Since(start); took > limit {
		t.Fatalf("took %s, want under %s", took, limit)
	}
}

func showJSON(v any) string {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

func background(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	t.Cleanup(cancel)
	return ctx
}
