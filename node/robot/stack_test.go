package robot

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

const noopWF = `{"name":"noop","nodes":[{"id":"start","type":"start"},{"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"end"}]}`

// BenchmarkRunGoroutine is a no-op job's run on a goroutine of its own,
// 64 at a time as a claim starts them, with the stack grown at once
// (growStack) and one doubling at a time as the run deepens (plain).
func BenchmarkRunGoroutine(b *testing.B) {
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 64,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: b.TempDir()})}, &faultyQueue{})
	job := claimed("J", 1, "0s").Job
	graph := json.RawMessage(noopWF)
	runOne := func() {
		ru := &run{job: job, status: map[string]string{}, nudge: r.nudge,
			fence: newLeaseFence(time.Hour, time.Now(), slog.New(slog.DiscardHandler))}
		if res, err := r.runWorkflow(context.Background(), ru, graph, nil); err != nil || res.State != executor.StateSucceeded {
			b.Errorf("run: %v %+v", err, res)
		}
	}
	for _, grow := range []bool{false, true} {
		name := "plain"
		if grow {
			name = "growStack"
		}
		b.Run(name, func(b *testing.B) {
			var wg sync.WaitGroup
			for b.Loop() {
				for range 64 {
					wg.Go(func() {
						if grow {
							growStack(len(job.ID))
						}
						runOne()
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*64), "ns/run")
		})
	}
}
