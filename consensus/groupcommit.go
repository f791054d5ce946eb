package consensus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Part is the outcome of one part of a merged entry: each part succeeds
// or fails on its own, and one part's error leaves the others untouched.
type Part[T any] struct {
	Value T      `json:"value,omitempty"`
	Error *Error `json:"error,omitempty"`
}

// partError turns a handler's error into the one a part carries; errors
// other than business rules do not come out of handlers, but a part must
// never claim success for one.
func partError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return errorf(CodeInternal, "%v", err)
}

// applyParts runs fn on every part of a merged entry, in order, as if each
// were its own entry at the same index and time.
func applyParts[In, Out any](parts []In, fn func(*In) (Out, error)) []Part[Out] {
	out := make([]Part[Out], len(parts))
	for i := range parts {
		v, err := fn(&parts[i])
		out[i] = Part[Out]{Value: v, Error: partError(err)}
	}
	return out
}

// maxGroupItems and maxGroupBytes bound one merged entry, so that a
// burst becomes several entries the followers can stream rather than
// one that stalls replication, and so that a follower's forwarded entry
// stays well under the leader's limit on internal requests. A single
// call larger than either still goes, alone.
const (
	maxGroupItems = 2000
	maxGroupBytes = 4 << 20
)

// groupCommit merges the calls that arrive while earlier ones are being
// committed into one Raft entry (group commit). Under load this turns
// many small entries, and on a follower many forwarded requests, into a
// few large ones; an idle node sends a lone call at once, so merging
// adds no latency. Submits and LAN robots' claims each have one; robot
// reports (heartbeats and completions) share one with internet robots'
// claims (see newRobotGroups).
type groupCommit[In, Out any] struct {
	// name says which calls these are, in errors.
	name string
	// apply commits the calls' inputs in one entry and returns one
	// outcome per input, in order.
	apply func(ctx context.Context, ins []In) ([]Part[Out], error)
	// weigh returns a call's items and approximate encoded bytes, which
	// maxGroupItems and maxGroupBytes bound.
	weigh func(In) (items, bytes int)
	// lifetime ends when the store closes; flushes stop with it.
	lifetime context.Context
	// maxInFlight is how many merged entries may be in flight at once.
	maxInFlight int
	// gap is the least time between the starts of two entries: calls that
	// arrive meanwhile wait for the next one. Zero sends as soon as an
	// entry is free; a gap bounds the entries per interval whatever the
	// number of callers.
	gap time.Duration
	// urgent, when set, marks calls that do not wait out the gap: one
	// pending urgent call sends everything pending at once.
	urgent func(In) bool
	// awaitSent, when set, marks calls whose caller, if it gives up,
	// still waits for the outcome once the call is on its way: claims,
	// so that the jobs an entry leases reach the robot that asked instead
	// of sitting leased to a robot that never heard of them until the
	// lease runs out. The wait is bounded by the flush's
	// DefaultApplyTimeout.
	awaitSent func(In) bool
	// wake cuts a gap short when an urgent call arrives (buffer 1; only
	// batchers with a gap and urgent calls need it).
	wake chan struct{}
	// forwardIn, when set, is signalled as each follower's forward
	// arrives (buffer 1), for awaitForwards, which times its waits in
	// forwardWaits.
	forwardIn    chan struct{}
	forwardWait  time.Duration
	forwardWaits prometheus.Histogram

	mu        sync.Mutex
	pending   []*groupCall[In, Out]
	inFlight  int
	lastStart time.Time
	// lastEnd is when the last flush answered its calls, and
	// forwardsAtEnd how many forwards had arrived by then; forwards
	// counts the followers' forwards that arrived (doForward).
	lastEnd       time.Time
	forwards      uint64
	forwardsAtEnd uint64
	// forwardWaitMisses counts the leader's waits for forwards that ran
	// out in a row, and forwardWaitSkips the entries after which it will
	// not wait because of them (groupcommit_forwards.go).
	forwardWaitMisses, forwardWaitSkips int
	closed                              bool
	flushes                             sync.WaitGroup
}

type groupCall[In, Out any] struct {
	in    In
	done  chan struct{}
	out   Out
	err   error
	taken bool // on its way in an entry; guarded by the batcher's mu
	// forward marks a follower's forward on the leader, and more one the
	// follower sent while busy (groupcommit_forwards.go).
	forward, more bool
}

// do queues in as one part of the next entry and waits for its outcome.
func (b *groupCommit[In, Out]) do(ctx context.Context, in In) (Out, error) {
	return b.doCall(ctx, &groupCall[In, Out]{in: in, done: make(chan struct{})})
}

// doCall queues call and waits for its outcome.
func (b *groupCommit[In, Out]) doCall(ctx context.Context, call *groupCall[In, Out]) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	if err := b.enqueue(call); err != nil {
		return zero, err
	}
	return b.await(ctx, call)
}

// doAll queues ins together, so that they share an entry unless it
// fills, and waits for each outcome.
func (b *groupCommit[In, Out]) doAll(ctx context.Context, ins ...In) ([]Out, []error) {
	outs, errs := make([]Out, len(ins)), make([]error, len(ins))
	calls := make([]*groupCall[In, Out], len(ins))
	for i, in := range ins {
		calls[i] = &groupCall[In, Out]{in: in, done: make(chan struct{})}
	}
	err := ctx.Err()
	if err == nil {
		err = b.enqueue(calls...)
	}
	for i, call := range calls {
		if err != nil {
			errs[i] = err
			continue
		}
		outs[i], errs[i] = b.await(ctx, call)
	}
	return outs, errs
}

// enqueue adds calls to the pending list in one step and starts a flush
// if one more may be in flight.
func (b *groupCommit[In, Out]) enqueue(calls ...*groupCall[In, Out]) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errorf(CodeNoLeader, "%s: the store is closed", b.name)
	}
	for _, call := range calls {
		b.pending = append(b.pending, call)
		if b.wake != nil && b.urgent != nil && b.urgent(call.in) {
			signal(b.wake)
		}
		if call.forward {
			b.forwards++
			if b.forwardIn != nil {
				signal(b.forwardIn)
			}
		}
	}
	if b.inFlight < b.maxInFlight {
		b.inFlight++
		b.flushes.Go(b.flushLoop)
	}
	return nil
}

// await waits for call's outcome, or answers a caller that gave up.
func (b *groupCommit[In, Out]) await(ctx context.Context, call *groupCall[In, Out]) (Out, error) {
	select {
	case <-call.done:
		return call.out, call.err
	case <-ctx.Done():
		return b.abandon(call, ctx.Err())
	}
}

// abandon answers a caller that gave up. A call not yet taken is
// dropped and never sent. One already on its way may still commit; every
// call merged here is idempotent by the ids or tokens it carries, and
// with awaitSent its outcome is awaited instead.
func (b *groupCommit[In, Out]) abandon(call *groupCall[In, Out], err error) (Out, error) {
	var zero Out
	b.mu.Lock()
	if !call.taken {
		b.pending = slices.DeleteFunc(b.pending, func(c *groupCall[In, Out]) bool { return c == call })
		b.mu.Unlock()
		return zero, err
	}
	b.mu.Unlock()
	if b.awaitSent == nil || !b.awaitSent(call.in) {
		return zero, err
	}
	<-call.done
	return call.out, call.err
}

// signal wakes the one waiting on c (buffer 1) without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// flushLoop commits pending calls until none are left.
func (b *groupCommit[In, Out]) flushLoop() {
	flushed := false
	for {
		b.mu.Lock()
		if wait := b.gap - time.Since(b.lastStart); b.gap > 0 && wait > 0 && len(b.pending) > 0 && !b.urgentPending() {
			b.mu.Unlock()
			if !b.sleep(wait) {
				b.failPending(b.lifetime.Err())
			}
			continue
		}
		batch := b.take()
		if len(batch) == 0 {
			b.inFlight--
			b.mu.Unlock()
			return
		}
		b.lastStart = time.Now()
		busy := b.busy(flushed, b.lastStart)
		b.mu.Unlock()
		if b.flush(batch, busy) {
			b.awaitForwards(forwardsMarkedMore(batch))
		}
		flushed = true
	}
}

// urgentPending reports whether a pending call may not wait out the
// gap. The caller holds mu.
func (b *groupCommit[In, Out]) urgentPending() bool {
	if b.urgent == nil {
		return false
	}
	for _, call := range b.pending {
		if b.urgent(call.in) {
			return true
		}
	}
	return false
}

// sleep waits d, or less if an urgent call arrives or the store closes;
// it reports whether the store is still open.
func (b *groupCommit[In, Out]) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-b.wake: // nil, and never ready, without urgent calls
		return true
	case <-b.lifetime.Done():
		return false
	}
}

// failPending answers every pending call with err.
func (b *groupCommit[In, Out]) failPending(err error) {
	b.mu.Lock()
	batch := b.pending
	b.pending = nil
	b.mu.Unlock()
	for _, call := range batch {
		call.err = fmt.Errorf("%s: %w", b.name, err)
		close(call.done)
	}
}

// take removes calls from the pending list up to maxGroupItems items and
// maxGroupBytes (at least one call, however large). The caller holds mu.
func (b *groupCommit[In, Out]) take() []*groupCall[In, Out] {
	n, items, size := 0, 0, 0
	for n < len(b.pending) {
		callItems, callSize := b.weigh(b.pending[n].in)
		if n > 0 && (items+callItems > maxGroupItems || size+callSize > maxGroupBytes) {
			break
		}
		items, size = items+callItems, size+callSize
		n++
	}
	batch := b.pending[:n:n]
	for _, call := range batch {
		call.taken = true
	}
	b.pending = b.pending[n:]
	if len(b.pending) == 0 {
		b.pending = nil
	}
	return batch
}

// flush commits batch in one entry and answers its calls; it reports
// whether the entry committed. busy marks the flush's context (withBusy).
func (b *groupCommit[In, Out]) flush(batch []*groupCall[In, Out], busy bool) bool {
	ins := make([]In, len(batch))
	for i, call := range batch {
		ins[i] = call.in
	}
	ctx, cancel := context.WithTimeout(b.lifetime, DefaultApplyTimeout)
	if busy {
		ctx = withBusy(ctx)
	}
	results, err := b.apply(ctx, ins)
	cancel()
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("%s: %d parts answered %d results", b.name, len(batch), len(results))
	}
	b.mu.Lock()
	b.lastEnd, b.forwardsAtEnd = time.Now(), b.forwards
	b.mu.Unlock()
	for i, call := range batch {
		switch {
		case err != nil:
			call.err = err
		case results[i].Error != nil:
			call.err = results[i].Error
		default:
			call.out = results[i].Value
		}
		close(call.done)
	}
	return err == nil
}

// close refuses new calls and waits for every flush to return; the store
// calls it after ending the batcher's lifetime, so flushes fail fast.
func (b *groupCommit[In, Out]) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.flushes.Wait()
}
