package executor

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// linearWorkflow is start followed by n set_variable nodes that each
// increment a counter.
func linearWorkflow(n int) *Workflow {
	w := &Workflow{Name: "linear", Variables: map[string]any{"counter": 0.0}}
	w.Nodes = append(w.Nodes, Node{ID: "start", Type: "start"})
	prev := "start"
	for i := range n {
		id := fmt.Sprintf("n%d", i)
		w.Nodes = append(w.Nodes, Node{ID: id, Type: "set_variable", Config: map[string]any{"name": "counter", "value": "{{ counter + 1 }}"}})
		w.Connections = append(w.Connections, Connection{From: prev, To: id})
		prev = id
	}
	return w
}

// forEachWorkflow sums n items in a for_each loop with a one-node body.
func forEachWorkflow(n int) (*Workflow, map[string]any) {
	items := make([]any, n)
	for i := range items {
		items[i] = float64(i)
	}
	w := &Workflow{
		Name:      "for_each",
		Variables: map[string]any{"sum": 0.0},
		Nodes: []Node{
			{ID: "start", Type: "start"},
			{ID: "loop", Type: "for_each", Config: map[string]any{"items": "{{ items }}"}},
			{ID: "add", Type: "set_variable", Config: map[string]any{"name": "sum", "value": "{{ sum + item }}"}},
		},
		Connections: []Connection{
			{From: "start", To: "loop"},
			{From: "loop", To: "add", Port: "body"},
		},
	}
	return w, map[string]any{"items": items}
}

func benchmarkRun(b *testing.B, w *Workflow, vars map[string]any, opts RunOptions, nodesPerRun int) {
	e := NewEngine(EngineOptions{})
	checkpoints := 0
	opts.Vars = vars
	opts.OnCheckpoint = func(Checkpoint) { checkpoints++ }
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res := e.Run(context.Background(), w, opts)
		if res.State != StateSucceeded {
			b.Fatalf("run %s: %s", res.State, res.Error)
		}
	}
	perNode := float64(b.Elapsed().Nanoseconds()) / float64(b.N) / float64(nodesPerRun)
	b.ReportMetric(perNode, "ns/node")
	b.ReportMetric(float64(checkpoints)/float64(b.N), "checkpoints/run")
}

func BenchmarkLinear10k(b *testing.B) {
	const n = 10000
	w := linearWorkflow(n)
	b.Run("checkpoint=every-node", func(b *testing.B) {
		benchmarkRun(b, w, nil, RunOptions{}, n+1)
	})
	b.Run("checkpoint=every-100", func(b *testing.B) {
		benchmarkRun(b, w, nil, RunOptions{CheckpointEvery: 100, CheckpointInterval: time.Second}, n+1)
	})
}

func BenchmarkForEach100k(b *testing.B) {
	const n = 100000
	w, vars := forEachWorkflow(n)
	// Each item runs the loop node and the body node.
	nodes := 2*n + 2
	b.Run("checkpoint=every-node", func(b *testing.B) {
		benchmarkRun(b, w, vars, RunOptions{}, nodes)
	})
	b.Run("checkpoint=every-100", func(b *testing.B) {
		benchmarkRun(b, w, vars, RunOptions{CheckpointEvery: 100, CheckpointInterval: time.Second}, nodes)
	})
}

// BenchmarkShortRun is a short workflow run many times, as a robot runs
// the jobs of one workflow version: prepared for each run (Run) or once
// (RunPrepared).
func BenchmarkShortRun(b *testing.B) {
	for _, n := range []int{1, 10} {
		w := linearWorkflow(n)
		e := NewEngine(EngineOptions{})
		prep := e.Prepare(w)
		for _, prepared := range []bool{false, true} {
			b.Run(fmt.Sprintf("nodes=%d/prepared=%v", n+1, prepared), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var res Result
					if prepared {
						res = e.RunPrepared(context.Background(), prep, RunOptions{})
					} else {
						res = e.Run(context.Background(), w, RunOptions{})
					}
					if res.State != StateSucceeded {
						b.Fatalf("run %s: %s", res.State, res.Error)
					}
				}
			})
		}
	}
}
