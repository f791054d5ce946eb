package executor

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

// Runs of one Prepared, at the same time, each start from the
// workflow's defaults and their own inputs: the shared plan carries no
// run's variables to another, and the workflow's defaults are left as
// they were.
func TestPreparedRunsShareOnlyThePlan(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(
		Node{ID: "add", Type: "set_variable", Config: cfg("name", "total", "value", "{{ total + n }}")},
		Node{ID: "say", Type: "set_variable", Config: cfg("name", "said", "value", "n={{ n }}")},
	)
	w.Variables = map[string]any{"total": 100}
	prep := e.Prepare(w)
	var wg sync.WaitGroup
	results := make([]Result, 32)
	for i := range results {
		wg.Go(func() {
			results[i] = e.RunPrepared(context.Background(), prep, RunOptions{Vars: map[string]any{"n": i}})
		})
	}
	wg.Wait()
	for i, res := range results {
		if res.State != StateSucceeded {
			t.Fatalf("run %d: %s %s", i, res.State, res.Error)
		}
		if total, said := fmt.Sprint(res.Variables["total"]), res.Variables["said"]; total != fmt.Sprint(100+i) || said != fmt.Sprint("n=", i) {
			t.Errorf("run %d: total %v said %v; want %d and n=%d", i, total, said, 100+i, i)
		}
	}
	if !reflect.DeepEqual(w.Variables, map[string]any{"total": 100}) {
		t.Errorf("the workflow's defaults changed: %v", w.Variables)
	}
}

// A workflow that cannot run fails every run of its Prepared exactly as
// Run fails it, each with a result of its own.
func TestPreparedFailsAsRunFails(t *testing.T) {
	e := policyEngine(t, EngineOptions{WorkDir: t.TempDir(), NodeTypes: NodePolicy{Deny: []string{"shell"}}})
	for name, w := range map[string]*Workflow{
		"invalid": {Name: "no start", Nodes: []Node{{ID: "x", Type: "log"}}},
		"denied":  chain(Node{ID: "sh", Type: "shell", Config: cfg("command", "true")}),
	} {
		t.Run(name, func(t *testing.T) {
			want := e.Run(context.Background(), w, RunOptions{})
			if want.State != StateFailed {
				t.Fatalf("Run: %s, want failed", want.State)
			}
			prep := e.Prepare(w)
			first := e.RunPrepared(context.Background(), prep, RunOptions{})
			first.Variables["spoiled"] = true
			second := e.RunPrepared(context.Background(), prep, RunOptions{})
			if !reflect.DeepEqual(second, want) {
				t.Fatalf("RunPrepared: %+v\nRun: %+v", second, want)
			}
		})
	}
}
