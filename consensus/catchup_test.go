package consensus

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// TestRestartedFollowerCatchesUpToTheLeaderNotItsUncommittedTail: a
// follower whose log ends in entries the cluster never committed (it had
// appended them when it restarted) is caught up once it has applied what
// the leader has, rather than waiting for good for entries that will
// never be applied.
func TestRestartedFollowerCatchesUpToTheLeaderNotItsUncommittedTail(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.waitLeader(5*time.Second).PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "kept", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	f := c.follower()
	if _, err := f.WaitConsistent(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := f.cfg
	f.Close()
	c.fwd.drop(f)

	// Entries of an old term that no leader ever committed.
	const tail = 50
	logs, err := OpenLog(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	last, _ := logs.LastIndex()
	for i := range uint64(tail) {
		if err := logs.StoreLog(&raft.Log{Index: last + 1 + i, Term: 1, Type: raft.LogCommand}); err != nil {
			t.Fatal(err)
		}
	}
	logs.Close()

	cfg.RaftBind, cfg.Bootstrap = cfg.RaftAdvertise, false
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	c.fwd.mu.Lock()
	c.fwd.stores[cfg.HTTPAddr] = s
	c.fwd.mu.Unlock()
	if behind, _, target := s.CatchingUp(); !behind || target != last+tail {
		t.Fatalf("right after the restart: behind %v, target %d, want %d", behind, target, last+tail)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		behind, applied, target := s.CatchingUp()
		if !behind {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still catching up after 20s: applied %d of %d (its log ended at %d, the cluster's at %d)", applied, target, last+tail, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, found, _ := s.Workflow("w1"); !found {
		t.Fatal("caught up without the cluster's workflow")
	}
}

// TestIdleRestartsCatchUp: a node restarted again and again without a
// write in between, whose log ends in the leader's no-op and barrier
// entries (which never reach the state machine), still catches up.
func TestIdleRestartsCatchUp(t *testing.T) {
	cfg := Config{Name: "n1", DataDir: t.TempDir(), RaftBind: "127.0.0.1:0", HTTPAddr: "mem-1", Bootstrap: true, Forwarder: &directForwarder{}}
	for restart := range 3 {
		s, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cfg.RaftBind = s.cfg.RaftAdvertise // the same address on the next start
		deadline := time.Now().Add(20 * time.Second)
		for !s.IsLeader() || s.catchUpBehind() {
			if time.Now().After(deadline) {
				_, applied, target := s.CatchingUp()
				s.Close()
				t.Fatalf("start %d: leader %v, still catching up after 20s: applied %d of %d", restart+1, s.IsLeader(), applied, target)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if restart == 0 {
			if _, err := s.PutWorkflow(context.Background(), PutWorkflowCmd{ID: "w1", Name: "kept", Graph: graph("a")}); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
	}
}

func (s *Store) catchUpBehind() bool {
	behind, _, _ := s.CatchingUp()
	return behind
}
