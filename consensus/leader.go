package consensus

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/casare/casare/internal/retry"
)

// leaderLoop is the one goroutine that follows leadership. It drains
// Raft's notify channel promptly (a full channel stalled Consul and
// Nomad) and starts or stops the leader duties as a unit.
func (s *Store) leaderLoop(ctx context.Context) {
	var stopDuties func()
	defer func() {
		if stopDuties != nil {
			stopDuties()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case isLeader := <-s.notify:
			if stopDuties != nil {
				stopDuties()
				stopDuties = nil
			}
			if isLeader {
				stopDuties = s.startDuties(ctx)
			}
		}
	}
}

// startDuties runs the leader-only work for one term and returns the
// function that stops it and waits until it has stopped.
func (s *Store) startDuties(parent context.Context) func() {
	ctx, cancel := context.WithCancel(parent)
	var wg sync.WaitGroup
	wg.Go(func() {
		// Apply everything earlier leaders committed before acting on
		// the state: duties must not work from a stale view. Retry until
		// it works or leadership is gone; a leader without duties would
		// leave leases unexpired and schedules unfired for its term.
		term := s.raft.CurrentTerm()
		barrier := func() (struct{}, error) { return struct{}{}, s.raft.Barrier(DefaultApplyTimeout).Error() }
		if _, err := retry.Do(ctx, s.leaderDutyRetry("barrier after gaining leadership failed"), barrier); err != nil {
			return // leadership (and ctx) ended first
		}
		// Terms only grow: the same term before and after means the
		// barrier committed in this term, so reads may use the read index.
		if s.raft.CurrentTerm() == term {
			s.reads.Store(&termReads{term: term})
		}
		s.log.Info("gained leadership", "term", s.raft.Stats()["term"])
		s.runDuties(ctx)
	})
	return func() {
		cancel()
		wg.Wait()
	}
}

// runDuties runs each leader duty until ctx ends.
func (s *Store) runDuties(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.registerSelf(ctx) })
	wg.Go(func() { every(ctx, time.Second, s.reconcileServers) })
	wg.Go(func() { every(ctx, dutyInterval, func(now time.Time) { s.expireLeases(ctx, now) }) })
	wg.Go(func() { every(ctx, dutyInterval, func(now time.Time) { s.reapRobots(ctx, now) }) })
	wg.Go(func() { s.runCron(ctx) })
	if s.cfg.Retention > 0 {
		wg.Go(func() { every(ctx, retentionTick, func(now time.Time) { s.pruneJobs(ctx, now) }) })
	}
	if !s.cfg.Archives {
		wg.Go(func() { every(ctx, retentionTick, func(time.Time) { s.stopKeepingLogs(ctx) }) })
	}
	for _, d := range s.cfg.Duties {
		wg.Go(func() { d.RunAsLeader(ctx, s) })
	}
	wg.Wait()
}

// registerSelf makes sure the replicated registry has this server's
// current addresses, so followers can forward to it.
func (s Membership) registerSelf(ctx context.Context) {
	want := NodeInfo{
		Name: s.cfg.Name, RaftAddr: s.cfg.RaftAdvertise, HTTPAddr: s.cfg.HTTPAddr, QUICAddr: s.cfg.QUICAddr,
		GossipAddr: s.cfg.GossipAddr, LogFormat: LogFormat,
	}
	// Until ctx ends, when leadership does: nothing else to do on error.
	_, _ = retry.Do(ctx, s.leaderDutyRetry("register leader address"), func() (struct{}, error) {
		if have, ok := s.node(s.cfg.Name); ok && have == want {
			return struct{}{}, nil
		}
		return struct{}{}, s.registerNode(ctx, want)
	})
}

// leaderRetry is how a leader duty's first steps wait out a failure:
// elections on a LAN take a few hundred milliseconds, so the waits start
// short and stay at most a quarter second; the duty's context (its term)
// decides when to give up.
var leaderRetry = retry.Policy{First: 20 * time.Millisecond, Max: 250 * time.Millisecond}

// leaderDutyRetry retries a step a leader must take before or while it
// serves (the barrier, registering its address) as writes wait for a
// leader, logging each failure with msg.
func (s *Store) leaderDutyRetry(msg string) retry.Policy {
	p := leaderRetry
	p.OnRetry = func(tries int, err error, wait time.Duration) {
		s.log.Warn(msg, "tries", tries, "err", err, "retry_in", wait)
	}
	return p
}

// every calls fn with the current time at each tick until ctx ends.
func every(ctx context.Context, d time.Duration, fn func(now time.Time)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			fn(now)
		}
	}
}

// IsLeader reports whether this node is the Raft leader.
func (s *Store) IsLeader() bool { return s.raft.State() == raft.Leader }

// Leader returns the leader's registered addresses, if known.
func (s *Store) Leader() (NodeInfo, bool) {
	n, err := s.leaderInfo()
	return n, err == nil
}

// LeaderName returns the leader's server id, or "" when none is known.
func (s *Store) LeaderName() string {
	_, id := s.raft.LeaderWithID()
	return string(id)
}

// AppliedIndex returns the last Raft index applied to this node's FSM.
func (s Replica) AppliedIndex() uint64 {
	idx, _ := s.fsm.appliedIndex()
	return idx
}

// RaftState returns "Leader", "Follower", "Candidate" or "Shutdown".
func (s *Store) RaftState() string { return s.raft.State().String() }

// Stats returns Raft's own counters (term, commit index, …).
func (s *Store) Stats() map[string]string { return s.raft.Stats() }

// Name returns this node's name.
func (s *Store) Name() string { return s.cfg.Name }

// Snapshot forces a snapshot of the FSM (used by tests and operators).
func (s *Store) Snapshot() error { return s.raft.Snapshot().Error() }
