package consensus

import (
	"context"
	"fmt"
	"sync"
)

// SubmitGroupsCmd carries several independent submits in one entry: each
// group is atomic on its own, and one group's error leaves the others
// untouched. It is how a node commits concurrent submits together.
type SubmitGroupsCmd struct {
	Groups [][]JobSpec `json:"groups"`
}

// GroupResult is the outcome of one group of a SubmitGroupsCmd.
type GroupResult struct {
	Jobs  []Job  `json:"jobs,omitempty"`
	Error *Error `json:"error,omitempty"`
}

func (s jobsApply) submitGroups(c applyContext, cmd *SubmitGroupsCmd) ([]GroupResult, error) {
	out := make([]GroupResult, len(cmd.Groups))
	for i, group := range cmd.Groups {
		out[i].Jobs, out[i].Error = s.submitGroup(c, group)
	}
	return out, nil
}

// maxGroupJobs and maxGroupBytes bound one merged entry, so that a burst
// of batches becomes several entries the followers can stream rather
// than one that stalls replication, and so that a follower's forwarded
// entry stays well under the leader's limit on internal requests. A
// single call larger than either still goes, alone.
const (
	maxGroupJobs  = 2000
	maxGroupBytes = 4 << 20
)

// specOverhead approximates a spec's encoded size besides its params.
const specOverhead = 256

// submitsInFlight is how many merged submit entries one node keeps in
// flight: enough to overlap forwarding with the commit of the previous
// entry, few enough that calls arriving meanwhile merge.
const submitsInFlight = 4

// submitBatcher merges the SubmitJobs calls that arrive while earlier
// ones are being committed into one Raft entry (group commit). Under
// load this turns many small entries, and on a follower many forwarded
// requests, into a few large ones; an idle node sends a lone call at
// once, so merging adds no latency.
type submitBatcher struct {
	// apply commits the groups and returns one result per group.
	apply func(ctx context.Context, groups [][]JobSpec) ([]GroupResult, error)
	// lifetime ends when the store closes; flushes stop with it.
	lifetime context.Context
	// maxInFlight is how many merged entries may be in flight at once.
	maxInFlight int

	mu       sync.Mutex
	pending  []*submitCall
	inFlight int
	closed   bool
	flushes  sync.WaitGroup
}

type submitCall struct {
	specs []JobSpec
	done  chan struct{}
	jobs  []Job
	err   error
}

// size approximates the call's share of an encoded entry.
func (c *submitCall) size() int {
	n := 0
	for _, spec := range c.specs {
		n += specOverhead + len(spec.Params)
	}
	return n
}

// submit queues specs as one atomic group and waits for its outcome.
func (b *submitBatcher) submit(ctx context.Context, specs []JobSpec) ([]Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	call := &submitCall{specs: specs, done: make(chan struct{})}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil, errorf(CodeNoLeader, "submit: the store is closed")
	}
	b.pending = append(b.pending, call)
	if b.inFlight < b.maxInFlight {
		b.inFlight++
		b.flushes.Go(b.flushLoop)
	}
	b.mu.Unlock()
	select {
	case <-call.done:
		return call.jobs, call.err
	case <-ctx.Done():
		// The entry may still commit; the caller's retry is idempotent by
		// the job ids it carries.
		return nil, ctx.Err()
	}
}

// flushLoop commits pending calls until none are left.
func (b *submitBatcher) flushLoop() {
	for {
		b.mu.Lock()
		batch := b.take()
		if len(batch) == 0 {
			b.inFlight--
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
		b.flush(batch)
	}
}

// take removes calls from the pending list up to maxGroupJobs jobs and
// maxGroupBytes (at least one call, however large). The caller holds mu.
func (b *submitBatcher) take() []*submitCall {
	n, jobs, size := 0, 0, 0
	for n < len(b.pending) {
		callJobs, callSize := len(b.pending[n].specs), b.pending[n].size()
		if n > 0 && (jobs+callJobs > maxGroupJobs || size+callSize > maxGroupBytes) {
			break
		}
		jobs, size = jobs+callJobs, size+callSize
		n++
	}
	batch := b.pending[:n:n]
	b.pending = b.pending[n:]
	if len(b.pending) == 0 {
		b.pending = nil
	}
	return batch
}

func (b *submitBatcher) flush(batch []*submitCall) {
	groups := make([][]JobSpec, len(batch))
	for i, call := range batch {
		groups[i] = call.specs
	}
	ctx, cancel := context.WithTimeout(b.lifetime, DefaultApplyTimeout)
	results, err := b.apply(ctx, groups)
	cancel()
	if err == nil && len(results) != len(batch) {
		err = fmt.Errorf("submit: %d groups answered %d results", len(batch), len(results))
	}
	for i, call := range batch {
		switch {
		case err != nil:
			call.err = err
		case results[i].Error != nil:
			call.err = results[i].Error
		default:
			call.jobs = results[i].Jobs
		}
		close(call.done)
	}
}

// close refuses new calls and waits for every flush to return; the store
// calls it after ending the batcher's lifetime, so flushes fail fast.
func (b *submitBatcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.flushes.Wait()
}
