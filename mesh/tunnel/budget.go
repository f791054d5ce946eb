package tunnel

import (
	"context"

	"golang.org/x/sync/semaphore"
)

// servedFrames is how many frames of the largest size the calls one side
// serves on a connection may hold at once: the bytes of requests read
// and not yet answered (readBudget). Without a bound, a peer could open
// its thousand streams (maxConcurrentCalls) with a megabyte frame on
// each, and the other side would read them all into memory at once,
// since reading is what gives QUIC's flow control its credit back. Calls
// beyond the budget wait, unread, until earlier ones are answered; a
// robot's calls are a few kilobytes, so only a peer sending megabytes on
// many streams at once waits.
const servedFrames = 4

// readBudget is the connection's budget of served bytes, which a request
// takes as soon as its frame's length is known and gives back once it is
// answered (envelope.held). A zero readBudget takes nothing: replies and
// handshakes read with none.
type readBudget struct {
	// ctx ends a wait for the budget: the stream's, which ends when the
	// caller gives up or the connection closes.
	ctx context.Context
	sem *semaphore.Weighted
}

func newServedBytes(maxFrame int) *semaphore.Weighted {
	return semaphore.NewWeighted(int64(servedFrames) * int64(maxFrame))
}

// take waits for n bytes of the budget and returns what it took.
func (b readBudget) take(n uint32) (int64, error) {
	if b.sem == nil || n == 0 {
		return 0, nil
	}
	if err := b.sem.Acquire(b.ctx, int64(n)); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// give returns what env holds of the budget; it may be called again.
func (b readBudget) give(env *envelope) {
	if b.sem != nil && env != nil && env.held > 0 {
		b.sem.Release(env.held)
		env.held = 0
	}
}
