package consensus

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// gossipView stands in for gossip's view of the cluster: every member
// is alive except those a test declares dead, which gossip has reported
// dead for an hour. It is how a stale gossip view looks to the leader,
// without needing a real network cut.
type gossipView struct {
	mu   sync.Mutex
	dead map[string]bool
}

func newGossipView(dead ...string) *gossipView {
	g := &gossipView{dead: map[string]bool{}}
	for _, name := range dead {
		g.dead[name] = true
	}
	return g
}

func (g *gossipView) MemberState(name string) (string, time.Time, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.dead[name] {
		return "dead", time.Now().Add(-time.Hour), true
	}
	return "alive", time.Now().Add(-time.Hour), true
}

// reapCluster starts n stores that all see gossip through view and use
// grace as the dead-server grace.
func reapCluster(t *testing.T, n int, view *gossipView, grace time.Duration) *testCluster {
	t.Helper()
	return startClusterWith(t, n, func(cfg *Config) {
		cfg.Liveness, cfg.DeadServerGrace = view, grace
	})
}

// serverNames returns the names in the leader's configuration, and how
// many of them vote.
func serverNames(t *testing.T, s *Store) (names []string, voters int) {
	t.Helper()
	srvs, err := s.Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range srvs {
		names = append(names, srv.Name)
		if srv.Voter {
			voters++
		}
	}
	return names, voters
}

// holdsFor checks cond every 50 ms for d and fails the test the first
// time it does not hold: the way to assert that something does not
// happen within a window.
func holdsFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if !cond() {
			t.Fatalf("%s stopped holding", what)
		}
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting until %s", d, what)
		}
	}
}

// TestReapKeepsServerRaftReaches: gossip says a follower has been dead
// for an hour (a view left stale by a cut), but the leader's heartbeats
// to it succeed, so it is not removed however long the grace has passed.
func TestReapKeepsServerRaftReaches(t *testing.T) {
	const grace = time.Second
	view := newGossipView()
	c := reapCluster(t, 3, view, grace)
	leader := c.waitLeader(5 * time.Second)
	victim := c.follower()
	view.mu.Lock()
	view.dead[victim.cfg.Name] = true
	view.mu.Unlock()
	holdsFor(t, 4*grace, victim.cfg.Name+" stays in the configuration", func() bool {
		names, _ := serverNames(t, leader)
		return slices.Contains(names, victim.cfg.Name)
	})
}

// TestReapOnePerGrace: two non-voters crash and gossip agrees; they are
// removed one at a time, at least a grace period apart, and each only
// after Raft has failed to reach it for a grace period.
func TestReapOnePerGrace(t *testing.T) {
	const grace = 2 * time.Second
	view := newGossipView("n4", "n5")
	c := reapCluster(t, 5, view, grace)
	leader := c.waitLeader(5 * time.Second)
	if _, voters := serverNames(t, leader); voters != 3 {
		t.Fatalf("want 3 voters and 2 non-voters, got %d voters", voters)
	}
	crashed := time.Now()
	for _, s := range c.stores[3:] {
		c.fwd.drop(s)
		s.Close()
	}
	removedAt := map[string]time.Time{}
	waitUntil(t, 6*grace, "n4 and n5 are removed", func() bool {
		names, _ := serverNames(t, leader)
		for _, name := range []string{"n4", "n5"} {
			if _, seen := removedAt[name]; !seen && !slices.Contains(names, name) {
				removedAt[name] = time.Now()
			}
		}
		return len(removedAt) == 2
	})
	first, second := removedAt["n4"], removedAt["n5"]
	if second.Before(first) {
		first, second = second, first
	}
	t.Logf("removed %v and %v after the crash (grace %v)", first.Sub(crashed).Round(time.Millisecond), second.Sub(crashed).Round(time.Millisecond), grace)
	if first.Sub(crashed) < grace {
		t.Errorf("first removal %v after the crash, before Raft had failed to reach it for the %v grace", first.Sub(crashed), grace)
	}
	// Both were gone long enough at once; the second must still wait a
	// grace period after the first. The times are when the test saw each
	// removal committed, so allow for the first being seen late on a
	// loaded machine; without the rule both go in the same tick.
	if gap := second.Sub(first); gap < grace*3/4 {
		t.Errorf("two servers removed %v apart, within one %v grace period", gap, grace)
	}
}

// TestReapKeepsVoterTarget: a voter of a three-voter cluster crashes and
// no non-voter can replace it, so it stays in the configuration however
// long it is dead; an operator's removal then takes it out, after
// refusing to remove a live server.
func TestReapKeepsVoterTarget(t *testing.T) {
	const grace = time.Second
	view := newGossipView()
	c := reapCluster(t, 3, view, grace)
	leader := c.waitLeader(5 * time.Second)
	dead := c.follower()
	name := dead.cfg.Name
	view.mu.Lock()
	view.dead[name] = true
	view.mu.Unlock()
	c.fwd.drop(dead)
	dead.Close()
	holdsFor(t, 4*grace, "3 voters with "+name+" among them", func() bool {
		names, voters := serverNames(t, leader)
		return voters == 3 && slices.Contains(names, name)
	})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var via *Store
	for _, s := range c.stores {
		if s != leader && s != dead {
			via = s
		}
	}
	_, err := via.RemoveServer(ctx, RemoveRequest{Name: leader.cfg.Name, Operator: true})
	if !IsCode(err, CodeConflict) {
		t.Fatalf("operator removal of the live leader: %v, want code %s", err, CodeConflict)
	}
	if _, err := via.RemoveServer(ctx, RemoveRequest{Name: "n9", Operator: true}); !IsCode(err, CodeNotFound) {
		t.Fatalf("operator removal of an unknown server: %v, want code %s", err, CodeNotFound)
	}
	resp, err := via.RemoveServer(ctx, RemoveRequest{Name: name, Operator: true})
	if err != nil {
		t.Fatalf("operator removal of dead %s through follower %s: %v", name, via.cfg.Name, err)
	}
	if resp.Removed != name || resp.Voters != 2 || resp.Promoted != "" {
		t.Fatalf("operator removal answered %+v, want %s removed, 2 voters, none promoted", resp, name)
	}
	if names, voters := serverNames(t, leader); voters != 2 || slices.Contains(names, name) {
		t.Fatalf("after the operator removed %s: %v with %d voters", name, names, voters)
	}
}

// TestReapPromotesBeforeRemovingVoter: with a live non-voter at hand, a
// dead voter is replaced and removed automatically, keeping 3 voters.
func TestReapPromotesBeforeRemovingVoter(t *testing.T) {
	const grace = time.Second
	view := newGossipView()
	c := reapCluster(t, 4, view, grace)
	leader := c.waitLeader(5 * time.Second)
	var victim *Store
	for _, s := range c.stores[:3] {
		if s != leader {
			victim = s
		}
	}
	view.mu.Lock()
	view.dead[victim.cfg.Name] = true
	view.mu.Unlock()
	c.fwd.drop(victim)
	victim.Close()
	waitUntil(t, 8*grace, "3 voters without "+victim.cfg.Name, func() bool {
		names, voters := serverNames(t, leader)
		return voters == 3 && len(names) == 3 && !slices.Contains(names, victim.cfg.Name)
	})
}

// TestReapDeadNonVoterBesideStuckVoter: a voter and a non-voter die
// together, so the voter cannot be replaced and must wait for an
// operator. The dead non-voter is still removed: the voter that cannot
// go must not keep every other dead server in the configuration.
func TestReapDeadNonVoterBesideStuckVoter(t *testing.T) {
	const grace = time.Second
	view := newGossipView()
	c := reapCluster(t, 4, view, grace)
	leader := c.waitLeader(5 * time.Second)
	if _, voters := serverNames(t, leader); voters != 3 {
		t.Fatalf("want 3 voters and 1 non-voter, got %d voters", voters)
	}
	var voter *Store
	for _, s := range c.stores[:3] {
		if s != leader {
			voter = s
			break
		}
	}
	nonVoter := c.stores[3]
	view.mu.Lock()
	view.dead[voter.cfg.Name], view.dead[nonVoter.cfg.Name] = true, true
	view.mu.Unlock()
	for _, s := range []*Store{voter, nonVoter} {
		c.fwd.drop(s)
		s.Close()
	}
	waitUntil(t, 15*grace, nonVoter.cfg.Name+" is removed", func() bool {
		names, _ := serverNames(t, leader)
		return !slices.Contains(names, nonVoter.cfg.Name)
	})
	if names, voters := serverNames(t, leader); voters != 3 || !slices.Contains(names, voter.cfg.Name) {
		t.Fatalf("the dead voter %s must stay until an operator removes it: %v with %d voters", voter.cfg.Name, names, voters)
	}
}
