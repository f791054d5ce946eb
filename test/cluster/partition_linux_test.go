//go:build linux

package cluster

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// Partition tests: three server nodes with robots, each on its own lab
// host (netns_linux_test.go), under submit load, with links cut and
// restored. Each test checks, after the last heal:
//   - no acknowledged job is lost, failed or completed twice;
//   - gossip views converge within gossipBound;
//   - jobs pinned to each healed node succeed there;
//   - all nodes serve the same jobs, configuration and leader within
//     agreeBound, and three voters remain;
//
// and logs one summary line, for the closing table.
const (
	// labGrace is the dead-server grace of lab clusters: short, so that
	// the cut that outlasts it fits the test's time, and so that a
	// cleanup acting on a stale view would strike within the test.
	labGrace = 5 * time.Second
	// gossipBound is how long after the heal every gossip view may take
	// to show every member alive: a reconnect interval plus a probe
	// round, and slack for a busy machine.
	gossipBound = 20 * time.Second
	// agreeBound is how long after the heal the nodes may take to agree,
	// including finishing the backlog the cut left (a few hundred jobs
	// at most) on a busy machine.
	agreeBound = 30 * time.Second
	// pinnedBound is how long a job pinned to a healed node may take.
	pinnedBound   = 30 * time.Second
	pinnedPerNode = 3
)

// partitionRun is one partition test's cluster, load and bookkeeping.
type partitionRun struct {
	t      *testing.T
	lab    *netLab
	c      *cluster
	hosts  map[string]*labHost
	runs   string // the load's side-effect file
	wfID   string
	load   *jobLoad
	healed time.Time // the last heal
	// votersAfter is how long after the last heal the voters are judged:
	// a cleanup that acts on a stale view needs a grace to strike.
	votersAfter time.Duration
}

// newPartitionRun starts size servers on lab hosts, with extra flags,
// and a load.
func newPartitionRun(t *testing.T, size int, extra ...string) *partitionRun {
	lab := newNetLab(t)
	flags := append([]string{"--capacity", "4", "--dead-server-grace", labGrace.String()}, extra...)
	c, hosts := startLabCluster(t, lab, size, flags...)
	p := &partitionRun{t: t, lab: lab, c: c, hosts: hosts, runs: newRunsFile(t)}
	p.wfID = labWorkflow(t, c.leader(), "partition-load", p.runs)
	p.load = startJobLoad(t, c, p.wfID)
	p.load.waitAcked(50)
	return p
}

func (p *partitionRun) cut(n *node) time.Time {
	p.t.Helper()
	p.lab.cut(p.hosts[n.name])
	p.t.Logf("%s: cut %s", time.Now().Format("15:04:05.000"), n.name)
	return time.Now()
}

func (p *partitionRun) heal(n *node) {
	p.t.Helper()
	p.lab.heal(p.hosts[n.name])
	p.healed = time.Now()
	p.t.Logf("%s: healed %s", p.healed.Format("15:04:05.000"), n.name)
}

// finish runs the checks every partition test shares, after the last
// heal, and logs the summary line.
func (p *partitionRun) finish(healedNodes ...*node) {
	p.t.Helper()
	t := p.t
	// Pinned jobs go in right at the heal: a robot that is back must be
	// claimable at once, even by a leader whose gossip view is not.
	pinned := p.submitPinned(healedNodes)
	p.waitGossipConverged()
	p.waitPinned(pinned)
	acked := p.load.finish()
	leader := currentLeader(t, p.c)
	jobs := p.waitDrained(leader, acked)
	agreed := p.waitAgreement(acked)

	lost, doubled, unfinished := 0, 0, 0
	byID := map[string]api.Job{}
	for _, j := range jobs {
		byID[j.ID] = j
	}
	for id := range acked {
		j, ok := byID[id]
		switch {
		case !ok:
			lost++
			t.Errorf("acknowledged job %s lost", id)
			continue
		case j.State != "succeeded":
			unfinished++
			t.Errorf("acknowledged job %s ended %s: %s", id, j.State, describeJob(j))
		}
		if n := successes(j); n > 1 {
			doubled++
			t.Errorf("job %s completed %d times: %s", id, n, describeJob(j))
		}
	}
	appends := readLineCounts(t, p.runs)
	runs, twice := 0, 0
	for _, n := range appends {
		runs += n
		if n > 1 {
			twice++
		}
	}
	for time.Since(p.healed) < p.votersAfter {
		time.Sleep(pollInterval) // the wait is the scenario: see votersAfter
	}
	srvs, err := servers(t, currentLeader(t, p.c))
	if err != nil {
		t.Fatal(err)
	}
	if v := voters(srvs); v != 3 {
		t.Errorf("%d voters at the end, want 3: %s", v, describeServers(srvs))
	}
	agreement := "never"
	if agreed >= 0 {
		agreement = agreed.Round(10 * time.Millisecond).String()
	}
	t.Logf("partition summary: test=%s runs=%d acknowledged=%d lost=%d doubled=%d unfinished=%d side_effects_twice=%d agreement_after_heal=%s voters=%d",
		t.Name(), runs, len(acked), lost, doubled, unfinished, twice, agreement, voters(srvs))
}

func successes(j api.Job) int {
	n := 0
	for _, a := range j.Attempts {
		if a.Outcome == "succeeded" {
			n++
		}
	}
	return n
}

// waitGossipConverged waits until every node's gossip view shows every
// node alive.
func (p *partitionRun) waitGossipConverged() {
	p.t.Helper()
	err := pollUntil(p.t.Context(), time.Until(p.healed.Add(gossipBound)), func() (bool, error) {
		for _, n := range p.c.running() {
			ctx, cancel := context.WithTimeout(p.t.Context(), 2*time.Second)
			_, _, gossip, err := clusterView(ctx, n)
			cancel()
			if err != nil {
				return false, err
			}
			alive := 0
			for _, m := range gossip {
				if len(m) > 6 && m[len(m)-6:] == "=alive" {
					alive++
				}
			}
			if alive != len(p.c.all()) {
				return false, fmt.Errorf("%s sees %v", n.name, gossip)
			}
		}
		return true, nil
	})
	if err != nil {
		p.t.Errorf("gossip views not converged %v after the heal: %v", gossipBound, err)
		return
	}
	p.t.Logf("gossip converged %v after the heal", time.Since(p.healed).Round(10*time.Millisecond))
}

// submitPinned submits jobs pinned to each healed node.
func (p *partitionRun) submitPinned(nodes []*node) []string {
	p.t.Helper()
	leader := currentLeader(p.t, p.c)
	var ids []string
	for _, n := range nodes {
		for range pinnedPerNode {
			j, err := leader.client.SubmitJob(p.t.Context(), api.JobRequest{WorkflowID: p.wfID, PinnedRobot: n.name})
			if err != nil {
				p.t.Fatalf("submit a job pinned to %s: %v", n.name, err)
			}
			ids = append(ids, j.ID)
		}
	}
	return ids
}

// waitPinned waits until the pinned jobs have succeeded on their robots.
func (p *partitionRun) waitPinned(ids []string) {
	p.t.Helper()
	leader := currentLeader(p.t, p.c)
	var ended error // a pinned job that finished wrong: no use waiting on
	err := pollUntil(p.t.Context(), pinnedBound, func() (bool, error) {
		for _, id := range ids {
			j, err := leader.client.Job(p.t.Context(), id, client.Consistent())
			switch {
			case err != nil:
				return false, err
			case j.State == "queued" || j.State == "running":
				return false, fmt.Errorf("pinned job %s: %s", id, describeJob(j))
			case j.State != "succeeded" || j.RobotID != j.PinnedRobot || len(j.Attempts) != 1:
				ended = fmt.Errorf("pinned job %s: %s", id, describeJob(j))
				return true, nil
			}
		}
		return true, nil
	})
	if err == nil {
		err = ended
	}
	if err != nil {
		p.t.Errorf("jobs pinned to the healed nodes did not all succeed there at the first try within %v: %v", pinnedBound, err)
	}
}

// waitDrained waits until every acknowledged job has finished, as the
// leader sees it, and returns the workflow's jobs.
func (p *partitionRun) waitDrained(leader *node, acked map[string]bool) []api.Job {
	p.t.Helper()
	var jobs []api.Job
	err := pollUntil(p.t.Context(), agreeBound, func() (bool, error) {
		var err error
		jobs, err = listJobs(p.t, leader, p.wfID, "")
		if err != nil {
			return false, err
		}
		open := 0
		for _, j := range jobs {
			if acked[j.ID] && (j.State == "queued" || j.State == "running") {
				open++
			}
		}
		return open == 0, fmt.Errorf("%d jobs still open: %v", open, countStates(jobs))
	})
	if err != nil {
		p.t.Errorf("acknowledged jobs not finished within %v: %v", agreeBound, err)
	}
	return jobs
}

// waitAgreement waits until every node serves the same configuration,
// leader and job states from its own replica, and returns how long after
// the heal that was first seen.
func (p *partitionRun) waitAgreement(acked map[string]bool) time.Duration {
	p.t.Helper()
	err := pollUntil(p.t.Context(), time.Until(p.healed.Add(agreeBound)), func() (bool, error) {
		var firstConfig, firstLeader string
		var firstJobs map[string]string
		for i, n := range p.c.running() {
			ctx, cancel := context.WithTimeout(p.t.Context(), 5*time.Second)
			config, leader, _, err := clusterView(ctx, n)
			var states map[string]string
			if err == nil {
				states, err = localJobStates(ctx, n, p.wfID)
			}
			cancel()
			if err != nil {
				return false, err
			}
			for id := range acked {
				if _, ok := states[id]; !ok {
					return false, fmt.Errorf("%s does not have acknowledged job %s", n.name, id)
				}
			}
			if i == 0 {
				firstConfig, firstLeader, firstJobs = config, leader, states
				continue
			}
			switch {
			case leader == "" || leader != firstLeader:
				return false, fmt.Errorf("%s names leader %q, another node %q", n.name, leader, firstLeader)
			case config != firstConfig:
				return false, fmt.Errorf("%s has configuration %s, another node %s", n.name, config, firstConfig)
			case !maps.Equal(states, firstJobs):
				return false, fmt.Errorf("%s serves %d jobs that differ from another node's %d", n.name, len(states), len(firstJobs))
			}
		}
		return true, nil
	})
	if err != nil {
		p.t.Errorf("nodes do not agree %v after the heal: %v", agreeBound, err)
		return -1
	}
	return time.Since(p.healed)
}

// TestPartitionLeaderCutUnderLoad cuts the leader off for 8 s while jobs
// are submitted: the majority elects a leader and takes writes at once,
// the cut-off leader answers writes fast with an error, and after the
// heal it catches up and serves current data.
func TestPartitionLeaderCutUnderLoad(t *testing.T) {
	p := newPartitionRun(t, 3)
	old := p.c.leader()
	cutAt := p.cut(old)

	// The isolated side knows within an election timeout that it has no
	// leader; a write there must fail fast, not wait 15 s.
	waitFor(t, 10*time.Second, old.name+" to step down", func() (bool, error) {
		cl, err := old.client.Cluster(t.Context())
		return err == nil && cl.RaftState != "Leader", err
	})
	start := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	_, err := old.client.SubmitJob(ctx, api.JobRequest{WorkflowID: p.wfID})
	cancel()
	failedIn := time.Since(start)
	t.Logf("a write to the cut-off old leader answered in %v: %v", failedIn.Round(time.Millisecond), err)
	if err == nil || failedIn > 3*time.Second {
		t.Errorf("a write to the cut-off old leader answered in %v (err %v); want an error within about an election timeout", failedIn, err)
	}

	majority := p.c.others(old)
	waitFor(t, 20*time.Second, "the majority to take a write", func() (bool, error) {
		n := majority[rand.IntN(len(majority))]
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		j, err := n.client.SubmitJob(ctx, api.JobRequest{WorkflowID: p.wfID})
		if err == nil {
			p.load.record([]api.Job{j}, n.name)
		}
		return err == nil, err
	})
	took := time.Since(cutAt)
	t.Logf("first write acknowledged by the majority %v after the cut", took.Round(time.Millisecond))
	// The target is 2 s (an election and a forward); the bound leaves a
	// second for a busy test machine, and the log line has the figure.
	if took > 3*time.Second {
		t.Errorf("the majority took its first write %v after the leader cut; want within 2 s (3 s on a busy machine)", took)
	}
	for time.Since(cutAt) < 8*time.Second {
		time.Sleep(pollInterval) // the cut's length is the scenario, not a wait for a condition
	}
	p.heal(old)
	p.finish(old)
}

// TestPartitionFollowerCutNeedsSnapshot cuts a follower while the leader
// writes past several snapshots, so the follower can only catch up from a
// snapshot.
func TestPartitionFollowerCutNeedsSnapshot(t *testing.T) {
	const entries = 128
	p := newPartitionRun(t, 3, "--snapshot-entries", fmt.Sprint(entries))
	f := p.c.follower()
	leader := p.c.leader()
	at, err := appliedIndex(t, f)
	if err != nil {
		t.Fatal(err)
	}
	cutAt := p.cut(f)
	// Past the follower's index by several snapshots, the leader's log
	// no longer holds what the follower misses: the leader snapshots every
	// `entries` entries (checked every second) and keeps `entries` behind
	// each snapshot, so its log starts well past the follower's index and
	// Raft has to send the snapshot.
	waitFor(t, 90*time.Second, "the leader to write past several snapshots", func() (bool, error) {
		idx, err := appliedIndex(t, leader)
		return err == nil && idx > at+6*entries && time.Since(cutAt) > 6*time.Second, fmt.Errorf("leader at %d, follower cut at %d (%v)", idx, at, err)
	})
	p.heal(f)
	p.finish(f)
}

// TestPartitionTwoShortCutsKeepThreeVoters cuts one follower, then
// another, each for less than the dead-server grace: no voter may be
// removed, even once the grace has passed after the heals.
func TestPartitionTwoShortCutsKeepThreeVoters(t *testing.T) {
	p := newPartitionRun(t, 3)
	followers := p.c.others(p.c.leader())
	for i, f := range followers[:2] {
		cutAt := p.cut(f)
		for time.Since(cutAt) < labGrace-time.Second {
			time.Sleep(pollInterval) // the cut's length is the scenario
		}
		p.heal(f)
		if i == 0 {
			time.Sleep(2 * time.Second) // the gap between the cuts is the scenario
		}
	}
	// A cleanup acting on a stale gossip view strikes one grace after the
	// heal at the latest; wait it out before judging the voters.
	p.votersAfter = 2 * labGrace
	p.finish(followers[:2]...)
}

// TestPartitionCutPastGraceRejoins cuts a voter for longer than the
// dead-server grace in a cluster of three voters and a non-voter: the
// leader removes it (promoting the non-voter, so the voter count holds),
// and after the heal the removed node finds itself outside the
// configuration, rejoins on its own and serves current data.
func TestPartitionCutPastGraceRejoins(t *testing.T) {
	p := newPartitionRun(t, 4)
	f := p.voterFollower()
	cutAt := p.cut(f)
	waitFor(t, 30*time.Second, f.name+" to be removed from the configuration", func() (bool, error) {
		srvs, err := servers(t, currentLeader(t, p.c))
		return err == nil && !slices.ContainsFunc(srvs, func(s api.ClusterServer) bool { return s.Name == f.name }), err
	})
	t.Logf("%s removed %v after the cut", f.name, time.Since(cutAt).Round(10*time.Millisecond))
	p.heal(f)
	p.finish(f)
}

// voterFollower returns a voter that does not lead.
func (p *partitionRun) voterFollower() *node {
	p.t.Helper()
	leader := p.c.leader()
	srvs, err := servers(p.t, leader)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, n := range p.c.others(leader) {
		if isVoter(srvs, n.name) {
			return n
		}
	}
	p.t.Fatalf("no voter besides the leader: %s", describeServers(srvs))
	return nil
}

// TestPartitionFlappingLinks cuts and restores random nodes' links for
// 40 s: cuts of up to 3 s, gaps of up to 2 s, the leader included.
func TestPartitionFlappingLinks(t *testing.T) {
	p := newPartitionRun(t, 3)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("flapping with seed %d", seed)
	nodes := p.c.all()
	end := time.Now().Add(40 * time.Second)
	cuts := 0
	for time.Now().Before(end) {
		n := nodes[rng.IntN(len(nodes))]
		p.cut(n)
		time.Sleep(time.Duration(500+rng.IntN(2500)) * time.Millisecond) // the flapping is the scenario
		p.heal(n)
		cuts++
		time.Sleep(time.Duration(500+rng.IntN(1500)) * time.Millisecond)
	}
	t.Logf("%d cuts in 40 s", cuts)
	p.finish(nodes...)
}
