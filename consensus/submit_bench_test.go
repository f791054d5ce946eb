package consensus

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// changeCounter observes every entry, as package api's event hub does,
// and keeps nothing.
type changeCounter struct{ n atomic.Int64 }

func (c *changeCounter) Applied(a Applied)          { c.n.Add(int64(len(a.Changes))) }
func (c *changeCounter) Restored(uint64, JobCounts) {}

// BenchmarkSubmitBatch queues batches of 100 jobs through a follower and
// the leader in turn, on three observed servers in one process: its
// B/op and allocs/op are the whole cluster's for a batch (the leader's
// answer to a follower crosses as JSON), which the garbage collector's
// share of a node's CPU follows. Unlike a rate on a shared machine, they
// do not move with the load.
func BenchmarkSubmitBatch(b *testing.B) {
	c := startClusterWith(b, 3, nil)
	leader := c.waitLeader(10 * time.Second)
	follower := c.follower()
	ctx := context.Background()
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a")}); err != nil {
		b.Fatal(err)
	}
	for _, s := range c.stores {
		s.Observe(&changeCounter{})
	}
	b.ReportAllocs()
	batch := 0
	for b.Loop() {
		specs := make([]JobSpec, 100)
		for i := range specs {
			specs[i] = JobSpec{ID: fmt.Sprintf("b%d-%d", batch, i), WorkflowID: "w1", ExecutionMode: ModeLAN}
		}
		via := []*Store{follower, leader}[batch%2]
		batch++
		if _, err := via.SubmitJobs(ctx, specs); err != nil {
			b.Fatal(err)
		}
	}
}
