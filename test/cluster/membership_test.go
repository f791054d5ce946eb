//go:build unix

package cluster

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// leaveTimeout bounds a graceful leave: the node drains its robot (idle
// here), hands over leadership, leaves Raft and gossip, then exits.
const leaveTimeout = 45 * time.Second

// TestJoinLeave checks that a fourth server joins as a non-voter, that a
// voter leaving with "casare node leave" is removed from Raft, shows
// "left" in gossip and is replaced by the non-voter, and that a leader
// leaving on SIGTERM hands leadership over.
func TestJoinLeave(t *testing.T) {
	c := startCluster(t, 3)
	n4 := c.join("n4")
	c.waitServers(4)
	srvs, err := servers(t, c.leader())
	if err != nil {
		t.Fatal(err)
	}
	if voters(srvs) != 3 || isVoter(srvs, n4.name) {
		t.Fatalf("after a 4th server joined a cluster of 3 voters: %s; want 3 voters and n4 a non-voter", describeServers(srvs))
	}

	// "casare node leave" on a voter that does not lead.
	leader := c.leader()
	leaver := c.others(leader, n4)[0]
	out, err := exec.Command(casareBin, "node", "leave", "--server", "http://"+leaver.http, "--data-dir", filepath.Join(leaver.dir, "data")).CombinedOutput()
	if err != nil {
		t.Fatalf("casare node leave --server %s: %v\n%s", leaver.http, err, out)
	}
	if state := leaver.waitExit(leaveTimeout); state.ExitCode() != 0 {
		t.Errorf("%s exited with %v after leaving, want 0", leaver.name, state)
	}
	waitVoters(t, c, []string{leaver.name}, 3, nil)
	waitGossipState(t, c.running(), leaver.name, "left")
	srvs, _ = servers(t, c.leader())
	if !isVoter(srvs, n4.name) {
		t.Errorf("n4 was not promoted when %s left: %s", leaver.name, describeServers(srvs))
	}
	t.Logf("after %s left: %s", leaver.name, describeServers(srvs))

	// SIGTERM on the leader: it hands leadership over and leaves too.
	// No non-voter is left to promote, so two voters remain.
	leader = c.leader()
	leader.signal(syscall.SIGTERM)
	termAt := time.Now()
	if state := leader.waitExit(leaveTimeout); state.ExitCode() != 0 {
		t.Errorf("leader %s exited with %v after SIGTERM, want 0", leader.name, state)
	}
	next, took := c.waitNewLeader(leader, termAt)
	t.Logf("leader %s left on SIGTERM; %s leads %v after the signal", leader.name, next.name, took)
	waitVoters(t, c, []string{leaver.name, leader.name}, 2, nil)
	waitGossipState(t, c.running(), leader.name, "left")
	c.waitReplicated()
}

// TestDeadServerRemoval checks that a crashed voter is removed from Raft
// once the dead-server grace has passed, not before, and that a
// non-voter is promoted to keep three voters.
func TestDeadServerRemoval(t *testing.T) {
	const grace = 3 * time.Second
	c := startCluster(t, 4, "--dead-server-grace", grace.String())
	leader := c.leader()
	srvs, err := servers(t, leader)
	if err != nil {
		t.Fatal(err)
	}
	if voters(srvs) != 3 {
		t.Fatalf("4 servers with the default of 3 voters: %s", describeServers(srvs))
	}
	var victim *node
	nonVoter := ""
	for _, s := range srvs {
		switch {
		case !s.Voter:
			nonVoter = s.Name
		case !s.Leader && victim == nil:
			victim = c.byName(s.Name)
		}
	}
	if victim == nil || nonVoter == "" {
		t.Fatalf("need a follower voter and a non-voter: %s", describeServers(srvs))
	}

	killedAt := victim.kill()
	survivors := c.others(victim)
	waitGossipState(t, survivors, victim.name, "dead")
	deadAfter := time.Since(killedAt)
	removedAfter := waitVoters(t, c, []string{victim.name}, 3, &killedAt)
	srvs, _ = servers(t, c.leader())
	t.Logf("voter %s SIGKILLed: dead in gossip after %v, out of Raft after %v (grace %v); now %s",
		victim.name, deadAfter, removedAfter, grace, describeServers(srvs))
	if !isVoter(srvs, nonVoter) {
		t.Errorf("non-voter %s was not promoted: %s", nonVoter, describeServers(srvs))
	}
	if removedAfter < grace {
		t.Errorf("%s was removed %v after its crash, before the %v grace", victim.name, removedAfter, grace)
	}
	c.waitReplicated()
}

func voters(srvs []api.ClusterServer) int {
	n := 0
	for _, s := range srvs {
		if s.Voter {
			n++
		}
	}
	return n
}

func isVoter(srvs []api.ClusterServer, name string) bool {
	return slices.ContainsFunc(srvs, func(s api.ClusterServer) bool { return s.Name == name && s.Voter })
}

// waitVoters waits until the leader's configuration holds none of gone
// and exactly want servers, all of them voters. With since set, it
// returns how long after since that was first seen.
func waitVoters(t *testing.T, c *cluster, gone []string, want int, since *time.Time) time.Duration {
	t.Helper()
	var seenAfter time.Duration
	waitFor(t, settleTimeout, fmt.Sprintf("%d voters without %v", want, gone), func() (bool, error) {
		srvs, err := servers(t, c.leader())
		if err != nil {
			return false, err
		}
		ok := len(srvs) == want && voters(srvs) == want &&
			!slices.ContainsFunc(srvs, func(s api.ClusterServer) bool { return slices.Contains(gone, s.Name) })
		if ok && since != nil {
			seenAfter = time.Since(*since)
		}
		return ok, fmt.Errorf("configuration: %s", describeServers(srvs))
	})
	return seenAfter
}

// waitGossipState waits until every node in nodes sees member name in
// the given gossip state.
func waitGossipState(t *testing.T, nodes []*node, name, state string) {
	t.Helper()
	for _, n := range nodes {
		waitFor(t, settleTimeout, fmt.Sprintf("%s to see %s %s in gossip", n.name, name, state), func() (bool, error) {
			cl, err := n.client.Cluster(t.Context())
			if err != nil {
				return false, err
			}
			for _, m := range cl.Members {
				if m.Name == name {
					return m.State == state, fmt.Errorf("%s sees %s %s", n.name, name, m.State)
				}
			}
			return false, fmt.Errorf("%s does not list %s", n.name, name)
		})
	}
}
