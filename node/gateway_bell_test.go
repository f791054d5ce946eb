package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

// shelf is a bellStore whose replica holds jobs claimable by every
// robot.
type shelf struct {
	jobs       int
	leaderless time.Duration
}

func (s *shelf) HasClaimable(consensus.ClaimCmd, time.Time) bool { return s.jobs > 0 }
func (s *shelf) ClaimableUpTo(_ consensus.ClaimCmd, _ time.Time, limit int) int {
	return min(s.jobs, limit)
}
func (s *shelf) AppliedChanged() (uint64, <-chan struct{}) { return 0, nil }
func (s *shelf) LeaderlessFor() time.Duration              { return s.leaderless }

// TestBellLetsAClaimGoAtOnceOnlyWhenItWouldRing: workBell.now lets a
// claim go without queueing only when the bell would wake it at once,
// counts it as in flight until done, and never lets it overtake a
// waiting claim of the same kind and tags.
func TestBellLetsAClaimGoAtOnceOnlyWhenItWouldRing(t *testing.T) {
	store := &shelf{jobs: 2}
	b := newWorkBell(store)
	at := time.Now()
	two := consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotInternet, Max: 2}
	one := consensus.ClaimCmd{RobotID: "r2", RobotKind: consensus.RobotInternet, Max: 1}
	done, ok := b.now(two, at)
	if !ok {
		t.Fatal("a claim with two jobs claimable was held")
	}
	if _, ok := b.now(one, at); ok {
		t.Error("a claim went at once while the two claimable jobs were being claimed")
	}
	done()
	if len(b.inflight) != 0 {
		t.Fatalf("after done: in flight %v; want nothing", b.inflight)
	}
	done, ok = b.now(one, at)
	if !ok {
		t.Fatal("a claim was held once the earlier one had returned")
	}
	done()

	// A claim of the same kind and tags waiting first keeps its turn; one
	// with other tags does not stand in the way.
	b.waiters = append(b.waiters, &bellWaiter{cmd: two, profile: profileOf(two), ready: make(chan struct{})})
	if _, ok := b.now(one, at); ok {
		t.Error("a claim overtook a waiting claim of the same kind and tags")
	}
	tagged := consensus.ClaimCmd{RobotID: "r3", RobotKind: consensus.RobotInternet, Tags: []string{"sap"}, Max: 1}
	if done, ok := b.now(tagged, at); !ok {
		t.Error("a waiting claim of other tags held a claim back")
	} else {
		done()
	}
	b.waiters = nil

	store.leaderless = time.Hour
	if _, ok := b.now(one, at); ok {
		t.Error("a claim went at once on a node without a leader")
	}
	store.leaderless, store.jobs = 0, 0
	if _, ok := b.now(one, at); ok {
		t.Error("a claim went at once with nothing to claim")
	}
}

// TestBellWakesEveryClaimThereIsWorkFor: a burst of jobs wakes as many
// waiting claims as the jobs can serve, however many slots that is
// (their claims share the node's robot-report entries), and no more.
func TestBellWakesEveryClaimThereIsWorkFor(t *testing.T) {
	const robots, slots = 300, 2
	store := &shelf{jobs: 500}
	b := newWorkBell(store)
	for i := range robots {
		cmd := consensus.ClaimCmd{RobotID: fmt.Sprintf("r%d", i), RobotKind: consensus.RobotInternet, Max: slots}
		b.waiters = append(b.waiters, &bellWaiter{cmd: cmd, profile: profileOf(cmd), ready: make(chan struct{})})
	}
	b.ring(time.Now())
	if woken, want := robots-len(b.waiters), store.jobs/slots; woken != want {
		t.Fatalf("%d of %d waiting claims of %d slots woken for %d jobs, want %d", woken, robots, slots, store.jobs, want)
	}
	if got := b.inflight[profileOf(b.waiters[0].cmd)]; got != store.jobs {
		t.Errorf("%d slots counted in flight, want %d", got, store.jobs)
	}
}
