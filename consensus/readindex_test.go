package consensus

import (
	"context"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestConsistentReadsDoNotGrowTheLog checks that consistent reads, and the
// consistent look-up that confirms a missing id is missing, write nothing
// to the log, on the leader and through a follower, while still seeing a
// write acknowledged just before.
func TestConsistentReadsDoNotGrowTheLog(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	f := c.follower()
	if _, err := f.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j1", ExecutionMode: "lan"}}}); err != nil {
		t.Fatalf("write through follower: %v", err)
	}
	// The leader's first reads of a term may take a barrier until its
	// own barrier of startDuties committed; wait for that.
	testutil.WaitFor(t, 10*time.Second, "leader ready for read-index reads", func() bool {
		return leader.currentReads() != nil
	})
	const reads = 50
	before := leader.raft.LastIndex()
	for i := range reads {
		for _, s := range []*Store{leader, f} {
			if _, err := s.WaitConsistent(ctx); err != nil {
				t.Fatalf("read %d on %s: %v", i, s.cfg.Name, err)
			}
			if _, ok, _ := s.Job("j1"); !ok {
				t.Fatalf("read %d on %s misses the acknowledged job", i, s.cfg.Name)
			}
			if _, ok, _ := s.Job("missing"); ok {
				t.Fatalf("read %d on %s finds a job never written", i, s.cfg.Name)
			}
		}
	}
	if after := leader.raft.LastIndex(); after != before {
		t.Fatalf("%d consistent reads on the leader and %d through a follower grew the log from %d to %d", reads, reads, before, after)
	}
	// A write after the reads is still seen by the next consistent read
	// through the follower: the read index follows the commit index.
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w2", Name: "w2", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j2", ExecutionMode: "lan"}}}); err != nil {
		t.Fatalf("write on leader: %v", err)
	}
	if _, err := f.WaitConsistent(ctx); err != nil {
		t.Fatalf("consistent read through follower: %v", err)
	}
	if _, ok, _ := f.Job("j2"); !ok {
		t.Fatal("consistent read through the follower misses a job acknowledged before it")
	}
}
