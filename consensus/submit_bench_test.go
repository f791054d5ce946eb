package consensus

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/casare/casare/internal/testutil"
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

// BenchmarkApplySubmitGroups applies merged submit entries of 200 jobs
// (two groups, ids as the API makes them) to one observed FSM, without
// Raft: the decode and apply every replica runs for every entry, which
// is what a node's CPU per submitted job follows. It reports ns/job,
// and the process's CPU time a job (the garbage collector's with it),
// which moves less than the time with the load of others.
func BenchmarkApplySubmitGroups(b *testing.B) {
	h := newHarness(b)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a")})
	h.f.observers.add(&changeCounter{})
	const perGroup = 100
	entries := make([]*raft.Log, 0, 64)
	entry := func(n int) *raft.Log {
		groups := make([][]JobSpec, 2)
		for g := range groups {
			groups[g] = make([]JobSpec, perGroup)
			for i := range groups[g] {
				id := fmt.Sprintf("%08x-0000-4000-8000-%012x", n, g*perGroup+i)
				groups[g][i] = JobSpec{ID: id, WorkflowID: "w1", ExecutionMode: ModeLAN}
			}
		}
		return h.entry(cmdSubmitGroups, SubmitGroupsCmd{Groups: groups, Brief: true})
	}
	for n := 0; n < b.N; n++ {
		entries = append(entries, entry(n))
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := testutil.ProcessCPU(b)
	for _, l := range entries {
		if res := h.f.Apply(l).(*applyResult); res.err != nil {
			b.Fatal(res.err)
		}
	}
	jobs := float64(b.N * 2 * perGroup)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/jobs, "ns/job")
	b.ReportMetric(float64(testutil.ProcessCPU(b)-cpu)/jobs, "cpu-ns/job")
}
