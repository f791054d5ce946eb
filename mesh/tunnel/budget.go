package tunnel

import (
	"fmt"

	"golang.org/x/sync/semaphore"
)

// freeFrameBytes is the size up to which a frame is read without taking
// from the connection's budget: a robot's claims, completions and
// heartbeats are far smaller, so they are never refused, and a peer's
// small frames on all its streams together stay under
// maxConcurrentCalls × freeFrameBytes.
const freeFrameBytes = 16 << 10

// servedFrames is how many frames of MaxFrameBytes the larger calls one
// side serves on a connection may hold at once, from the read of their
// length to their answer. Without a bound a peer could open its thousand
// streams (maxConcurrentCalls) with a megabyte frame on each, and the
// other side would read them all into memory at once, since reading is
// what gives QUIC's flow control its credit back.
//
// A call over the budget is read past without being kept and answered
// CodeBusy at once. It must not wait unread: its bytes would hold QUIC's
// connection window, which the admitted calls need for the rest of their
// own frames (a first version that waited wedged a connection with seven
// concurrent 1 MiB calls).
const servedFrames = 4

// readBudget is a connection's budget of served bytes. The zero
// readBudget keeps every frame: replies and handshakes read with it.
type readBudget struct{ sem *semaphore.Weighted }

func newReadBudget(maxFrame int) readBudget {
	return readBudget{sem: semaphore.NewWeighted(servedBytes(maxFrame))}
}

func servedBytes(maxFrame int) int64 { return int64(servedFrames) * int64(maxFrame) }

// take reports whether a frame of n bytes may be kept, and returns what
// it took from the budget for it.
func (b readBudget) take(n uint32) (held int64, ok bool) {
	if b.sem == nil || n <= freeFrameBytes {
		return 0, true
	}
	if !b.sem.TryAcquire(int64(n)) {
		return 0, false
	}
	return int64(n), true
}

// give returns what env holds of the budget; it may be called again.
func (b readBudget) give(env *envelope) {
	if b.sem != nil && env != nil && env.held > 0 {
		b.sem.Release(env.held)
		env.held = 0
	}
}

// busyError answers a call of size bytes that came over the budget of a
// side whose frames are at most maxFrame.
func busyError(size uint32, maxFrame int) *RemoteError {
	return &RemoteError{Code: CodeBusy, Message: fmt.Sprintf(
		"a call of %d bytes came while this side was serving calls that hold all of the %d bytes it serves at once on a connection; retry once they are answered",
		size, servedBytes(maxFrame))}
}
