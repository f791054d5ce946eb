package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// errLeaderChanged cancels a forwarded request whose leader is no longer
// the leader, so that it is retried against the new one at once instead
// of waiting on a node that may be cut off.
var errLeaderChanged = errors.New("the leader changed while the request was in flight")

// onLeader runs a request on the leader: here through local when this
// node leads, otherwise through forward to the leader it knows. It
// retries while leadership moves (the request is idempotent by the ids it
// carries) until it succeeds, fails for good or ctx ends. With
// noLeaderWait > 0 it also gives up once this node has known no leader
// for that long (as any request saw it, see raftWatch.leaderlessSince),
// failing with CodeNoLeader: client requests use it so
// that a cut-off node answers at once instead of at its deadline, while
// membership changes (a join, a leave) wait out an election. what names
// the request in errors.
//
// A forward is abandoned the moment Raft reports a different leader (or
// none): a request sent to a leader that was just cut off would otherwise
// hang until its deadline, although the cluster elected another leader
// within about a second.
func onLeader[T any](ctx context.Context, s *Store, what string, noLeaderWait time.Duration,
	local func(context.Context) (T, error), forward func(context.Context, NodeInfo) (T, error),
) (T, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for attempt := 0; ; attempt++ {
		changed := s.watch.leaderChange()
		v, err := tryOnLeader(ctx, s, changed, local, forward)
		if err == nil || !retryable(err) {
			return v, err
		}
		if s.knowsNoLeader() && noLeaderWait > 0 {
			// Since when this node has had no leader, as requests saw it:
			// an entry that waited behind another does not wait again.
			if since := s.watch.leaderlessSince(changed); time.Since(since) >= noLeaderWait {
				var zero T
				return zero, errorf(CodeNoLeader, "%s: node %s has known no leader for %v; retry in a second or two (%v)",
					what, s.cfg.Name, time.Since(since).Round(time.Millisecond), err)
			}
		}
		if werr := s.waitRetry(ctx, changed, attempt); werr != nil {
			var zero T
			return zero, fmt.Errorf("%s gave up (%w): %w", what, werr, err)
		}
	}
}

// LeaderlessFor reports how long this node has known no leader, counted
// from the first request to find none (see raftWatch.leaderlessSince),
// and zero while it leads or follows a leader. A gateway asks it about
// the claims it holds: a node cut off from the rest of the cluster would
// otherwise hold its internet robots' claims for good, its stale replica
// showing no work, while another node could give them jobs.
func (s *Store) LeaderlessFor() time.Duration {
	if !s.knowsNoLeader() {
		return 0
	}
	return time.Since(s.watch.leaderlessSince(s.watch.leaderChange()))
}

// LeaderlessDismiss is how long a node may know no leader before the
// robots waiting on it for work are sent away to another node (a
// gateway's held claims, a robot-only node's long poll). It is longer
// than a write's NoLeaderWait: an election that takes a few rounds would
// otherwise send every idle robot of every node elsewhere at once, while
// a node that is really cut off from the others still loses its robots
// within seconds.
const LeaderlessDismiss = 5 * time.Second

// LeftLeaderless returns the no_leader error that sends a waiting robot
// elsewhere once its node has known no leader for leaderless (see
// LeaderlessFor) past LeaderlessDismiss, and nil before.
func LeftLeaderless(leaderless time.Duration) *Error {
	if leaderless < LeaderlessDismiss {
		return nil
	}
	return &Error{Code: CodeNoLeader,
		Message: fmt.Sprintf("this node has known no leader for %v; another node may have one", leaderless.Round(time.Millisecond))}
}

// knowsNoLeader reports whether this node, by its own Raft state, has no
// leader: it neither leads nor follows anyone.
func (s *Store) knowsNoLeader() bool {
	_, id := s.raft.LeaderWithID()
	return id == "" && s.raft.State() != raft.Leader
}

// tryOnLeader makes one attempt. A forward runs under a context that
// ends when changed is closed, and an attempt cut short that way is
// reported as retryable.
func tryOnLeader[T any](ctx context.Context, s *Store, changed <-chan struct{},
	local func(context.Context) (T, error), forward func(context.Context, NodeInfo) (T, error),
) (T, error) {
	if s.raft.State() == raft.Leader {
		return local(ctx)
	}
	leader, err := s.leaderInfo()
	if err != nil {
		var zero T
		return zero, err
	}
	fctx, fcancel := context.WithCancelCause(ctx)
	defer fcancel(nil)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-changed:
			fcancel(errLeaderChanged)
		case <-stop:
		}
	}()
	v, err := forward(fctx, leader)
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(fctx), errLeaderChanged) {
		err = Unreachable(fmt.Errorf("forward to %s: %w (%w)", leader.Name, errLeaderChanged, err))
	}
	return v, err
}

// waitRetry waits before the next attempt: the usual backoff, cut short
// when the leader changes, since that is what the retry waits for.
func (s *Store) waitRetry(ctx context.Context, changed <-chan struct{}, attempt int) error {
	t := time.NewTimer(backoffDelay(attempt))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-changed:
	}
	return nil
}
