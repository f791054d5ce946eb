package consensus

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// noLeaderBound is what the tests allow a node cut off from the others
// to take, from the cut, before it answers no_leader: up to 2 × 500 ms
// of heartbeat timeout to notice its leader is gone, then the default
// NoLeaderWait (1.5 s), with room for a loaded machine; far below the
// 15 s every request used to wait.
const noLeaderBound = 4 * time.Second

// TestNoLeaderFailsFast cuts a follower off from both other servers: its
// writes and consistent reads answer no_leader within about an election
// timeout instead of waiting out the 15 s apply timeout.
func TestNoLeaderFailsFast(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitLeader(5 * time.Second)
	lone := c.follower()
	for _, s := range c.stores {
		if s != lone {
			c.fwd.drop(s)
			s.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	start := time.Now()
	_, err := lone.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "orphan", Graph: graph("a")})
	took := time.Since(start)
	if !IsCode(err, CodeNoLeader) {
		t.Fatalf("write on %s after %s and the other follower went away: %v, want code %s", lone.cfg.Name, leader.cfg.Name, err, CodeNoLeader)
	}
	if took > noLeaderBound {
		t.Fatalf("write without a leader answered after %v, want under %v", took, noLeaderBound)
	}
	t.Logf("write without a leader: %s after %v", CodeNoLeader, took.Round(time.Millisecond))

	start = time.Now()
	_, err = lone.WaitConsistent(ctx)
	took = time.Since(start)
	if !IsCode(err, CodeNoLeader) || took > noLeaderBound {
		t.Fatalf("consistent read without a leader: %v after %v, want code %s under %v", err, took, CodeNoLeader, noLeaderBound)
	}
	t.Logf("consistent read without a leader: %s after %v", CodeNoLeader, took.Round(time.Millisecond))
}

// TestCutOffLeaderFailsFast cuts the leader off from both followers: it
// steps down, and a write it was given answers no_leader within about an
// election timeout.
func TestCutOffLeaderFailsFast(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitLeader(5 * time.Second)
	for _, s := range c.stores {
		if s != leader {
			c.fwd.drop(s)
			s.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	_, err := leader.SubmitJobs(ctx, []JobSpec{{ID: "j1", ExecutionMode: "lan"}})
	took := time.Since(start)
	if !IsCode(err, CodeNoLeader) || took > noLeaderBound {
		t.Fatalf("write on a leader cut off from its followers: %v after %v, want code %s under %v", err, took, CodeNoLeader, noLeaderBound)
	}
	t.Logf("write on the cut-off leader: %s after %v", CodeNoLeader, took.Round(time.Millisecond))
}

// TestForwardFollowsNewLeader cuts the leader off in the middle of a
// write forwarded to it: requests to it hang, as over a cut link. The
// follower abandons the forward as soon as Raft elects another leader and
// retries there, so the majority side acknowledges the write within 2 s
// of the cut (the median of three cuts; a single cut may take one more
// election round on a loaded machine) rather than at the request's
// deadline.
//
// The stores wait for a leader longer than the default NoLeaderWait:
// what is measured is how soon the forward follows the new leader, and a
// split vote on a loaded machine (two election rounds, which CI saw)
// would otherwise end the write with no_leader, which is
// TestNoLeaderFailsFast's behaviour, not this one's.
func TestForwardFollowsNewLeader(t *testing.T) {
	const bound, worst = 2 * time.Second, 4 * time.Second
	var took []time.Duration
	for round := range 3 {
		c := startClusterWith(t, 3, func(cfg *Config) { cfg.NoLeaderWait = 15 * time.Second })
		old := c.waitLeader(5 * time.Second)
		f := c.follower()
		c.fwd.cut(old)
		cutAt := time.Now()
		old.Close()

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, err := f.PutWorkflow(ctx, PutWorkflowCmd{ID: fmt.Sprintf("w%d", round), Name: "after-cut", Graph: graph("a")})
		if err != nil {
			cancel()
			t.Fatalf("round %d: write through follower %s after leader %s was cut: %v", round, f.cfg.Name, old.cfg.Name, err)
		}
		took = append(took, time.Since(cutAt))
		_, err = f.WaitConsistent(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d: consistent read on %s: %v", round, f.cfg.Name, err)
		}
		if _, ok, _ := f.Workflow(fmt.Sprintf("w%d", round)); !ok {
			t.Fatalf("round %d: acknowledged workflow missing on %s", round, f.cfg.Name)
		}
	}
	t.Logf("write through a follower acknowledged after a leader cut in %v", took)
	slices.Sort(took)
	if took[1] > bound || took[2] > worst {
		t.Errorf("writes through a follower took %v after the leader was cut, want a median under %v and none over %v", took, bound, worst)
	}
}

// TestLeaderlessTimeIsTheNodes: a request that starts after another has
// already found the node without a leader counts from the first one (so
// a submit merged into the entry after a stuck one fails with it, not a
// whole wait later), and a leader change starts the count again.
func TestLeaderlessTimeIsTheNodes(t *testing.T) {
	w := newRaftWatch()
	gen := w.leaderChange()
	first := w.leaderlessSince(gen)
	time.Sleep(5 * time.Millisecond) // the second request comes later: the gap is the scenario
	if again := w.leaderlessSince(gen); !again.Equal(first) {
		t.Errorf("a later request in the same generation counts from %v, want the first request's %v", again, first)
	}
	w.note(raft.LeaderObservation{})
	next := w.leaderChange()
	if next == gen {
		t.Fatal("a leader change kept the generation")
	}
	if fresh := w.leaderlessSince(next); !fresh.After(first) {
		t.Errorf("after a leader change the count starts at %v, not after the old mark %v", fresh, first)
	}
}
