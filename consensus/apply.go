package consensus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// DefaultApplyTimeout bounds a write when the caller's context has no
// deadline of its own.
const DefaultApplyTimeout = 15 * time.Second

// apply is the one path every write takes: encode, send to the leader
// (here or forwarded), wait for the commit and the FSM's answer, and
// unwrap a business-rule error. A write whose outcome is unknown because
// leadership moved is retried; every command is idempotent by the ids it
// carries, so a retry returns the first result.
func apply[T any](ctx context.Context, s *Store, typ commandType, cmd any) (T, error) {
	return applyThen[T](ctx, s, typ, cmd, nil)
}

// applyThen is apply that calls handedOff, if not nil, each time this
// node as leader hands the entry to Raft, before the entry commits: what
// is sent to Raft after that is ordered after it. A forwarded entry does
// not call it here; the leader that takes it does, if its caller asked.
func applyThen[T any](ctx context.Context, s *Store, typ commandType, cmd any, handedOff func()) (T, error) {
	var zero T
	buf, err := encodeCommand(typ, cmd)
	if err != nil {
		return zero, err
	}
	raw, local, err := s.applyOrForward(ctx, buf, handedOff)
	if err != nil {
		return zero, err
	}
	if local != nil {
		v, ok := local.(T)
		if !ok {
			return zero, fmt.Errorf("command type %d returned %T, not %T", typ, local, zero)
		}
		return v, nil
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return zero, fmt.Errorf("decode forwarded result of command type %d: %w", typ, err)
	}
	return v, nil
}

// forwarded is the outcome of a write: the FSM's value when applied
// here, its JSON when forwarded.
type forwarded struct {
	raw   []byte
	local any
}

// applyOrForward applies buf on the leader, retrying across leader
// changes (see onLeader). A local apply returns the FSM's value; a
// forwarded one returns its JSON. handedOff is as applyThen's.
func (s *Store) applyOrForward(ctx context.Context, buf []byte, handedOff func()) (raw []byte, local any, err error) {
	out, err := onLeader(ctx, s, "apply", s.cfg.NoLeaderWait,
		func(ctx context.Context) (forwarded, error) {
			v, err := s.applyDecoded(ctx, buf, nil, handedOff)
			return forwarded{local: v}, err
		},
		func(ctx context.Context, leader NodeInfo) (forwarded, error) {
			start := time.Now()
			raw, err := s.cfg.Forwarder.Apply(ctx, leader, buf)
			if ctx.Err() == nil && (err == nil || !retryable(err)) {
				// A try that found no leader to answer, or that was given
				// up when the leader changed, is retried; the write's
				// answer is timed once, by the try that got it.
				since(s.timings.forward, start)
			}
			return forwarded{raw: raw}, err
		})
	return out.raw, out.local, err
}

// ApplyRaw applies an envelope forwarded by a follower and returns the
// JSON of the result. Only the leader accepts it.
func (s *Store) ApplyRaw(ctx context.Context, buf []byte) ([]byte, error) {
	if _, _, _, err := splitCommand(buf); err != nil {
		return nil, errorf(CodeInvalid, "%v", err)
	}
	// A follower says so first, so that the forwarding node retries at
	// the leader, which is the one that checks the command.
	if s.raft.State() != raft.Leader {
		return nil, errorf(CodeNotLeader, "node %s is not the leader", s.cfg.Name)
	}
	cmd, err := s.fsm.handlers.check(buf)
	if err != nil {
		return nil, errorf(CodeInvalid, "%v", err)
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var v any
	if sg, ok := cmd.(*SubmitGroupsCmd); ok && sg.Brief {
		// A follower's merged submits join the leader's own (see
		// newSubmitBatcher). A follower of an older build, which does not
		// read brief answers, goes the way of every other entry.
		v, err = s.submits.doForward(ctx, sg.Groups, sg.More)
	} else {
		v, err = s.applyDecoded(ctx, buf, cmd, nil)
	}
	if err != nil {
		if retryable(err) {
			// The follower retries on this code; the outcome is unknown
			// and the command idempotent.
			return nil, errorf(CodeNotLeader, "node %s lost leadership: %v", s.cfg.Name, err)
		}
		return nil, err
	}
	return encodeJSON(v)
}

// applyDecoded appends buf to the leader's log with the current time and
// waits for its outcome. cmd is buf's command decoded already (from
// handlers.check; nil if not), which this node's apply then reuses;
// handedOff, if not nil, is called once Raft has taken the entry.
func (s *Store) applyDecoded(ctx context.Context, buf []byte, cmd any, handedOff func()) (any, error) {
	stamped := make([]byte, len(buf))
	copy(stamped, buf)
	stampTime(stamped, time.Now())
	entry := s.entryFor(stamped)
	s.fsm.predecoded.put(entry, cmd)
	defer s.fsm.predecoded.drop(entry)
	timeout := DefaultApplyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	start := time.Now()
	f := s.raft.Apply(entry, timeout)
	if handedOff != nil {
		handedOff()
	}
	if err := f.Error(); err != nil {
		return nil, err
	}
	since(s.timings.commit, start)
	res, ok := f.Response().(*applyResult)
	if !ok {
		return nil, fmt.Errorf("unexpected FSM response %T", f.Response())
	}
	return res.take()
}

// retryable reports whether err means "try again, maybe elsewhere":
// leadership moved or is unknown. The command may or may not have been
// committed; idempotency makes the retry safe.
func retryable(err error) bool {
	return errors.Is(err, raft.ErrNotLeader) || errors.Is(err, raft.ErrLeadershipLost) ||
		errors.Is(err, raft.ErrLeadershipTransferInProgress) || errors.Is(err, raft.ErrEnqueueTimeout) ||
		IsCode(err, CodeNotLeader) || IsCode(err, CodeNoLeader) || isTransient(err)
}

// isTransient reports a failure to reach the leader at all.
func isTransient(err error) bool {
	var te interface{ Temporary() bool }
	var ue *unreachableError
	return errors.As(err, &ue) || (errors.As(err, &te) && te.Temporary())
}

// unreachableError wraps a transport failure while forwarding.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return "leader unreachable: " + e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// Unreachable marks err as a failure to reach the leader, which the
// store retries once a leader is known again. Forwarders use it.
func Unreachable(err error) error { return &unreachableError{err} }

func (s *Store) leaderInfo() (NodeInfo, error) {
	_, id := s.raft.LeaderWithID()
	if id == "" {
		return NodeInfo{}, errorf(CodeNoLeader, "no leader known to %s", s.cfg.Name)
	}
	n, ok := s.node(string(id))
	if !ok || n.HTTPAddr == "" {
		return NodeInfo{}, errorf(CodeNoLeader, "leader %s has not registered its address yet", id)
	}
	return n, nil
}

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultApplyTimeout)
}

// backoffDelay is the wait before the next try of the routing loop
// (route.go): elections on a LAN take a few hundred milliseconds, so it
// starts at 20 ms and stays at most a quarter second.
func backoffDelay(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 4)
	return min(d, 250*time.Millisecond)
}

// ReadIndex returns an index that covers every write acknowledged before
// the call, without writing to the log: the leader notes its commit
// index, confirms with a quorum of followers that it still leads (a round
// of heartbeats sent after the call, leaderproof.go) and answers with
// that index, as etcd's read index does; a follower asks the leader. Without
// a leader it fails with CodeNoLeader within about NoLeaderWait (see
// onLeader).
func (s Replica) ReadIndex(ctx context.Context) (uint64, error) {
	idx, err := onLeader(ctx, s.Store, "read index", s.cfg.NoLeaderWait,
		s.leaderReadIndex,
		func(ctx context.Context, leader NodeInfo) (uint64, error) {
			return s.cfg.Forwarder.ReadIndex(ctx, leader)
		})
	if err != nil {
		return 0, fmt.Errorf("read index: %w", err)
	}
	return idx, nil
}

// WaitConsistent blocks until this node has applied every write
// acknowledged before the call, making the next local read linearizable.
func (s Replica) WaitConsistent(ctx context.Context) (uint64, error) {
	idx, err := s.ReadIndex(ctx)
	if err != nil {
		return 0, err
	}
	return idx, s.WaitApplied(ctx, idx)
}

// WaitApplied blocks until the FSM has applied index idx.
func (s Replica) WaitApplied(ctx context.Context, idx uint64) error {
	for {
		applied, next := s.fsm.appliedIndex()
		if applied >= idx {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for index %d (applied %d): %w", idx, applied, ctx.Err())
		case <-next:
		}
	}
}

func deadline(ctx context.Context) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return time.Now().Add(DefaultApplyTimeout)
}
