package consensus

import (
	"context"
	"math/bits"
	"time"
)

// Waiting for the followers' next forwards.
//
// A follower merges the submits it serves into one forward to the
// leader at a time (submitsInFlight), and sends the next as soon as the
// leader answers the last. The leader answers that forward when its entry
// commits, and at once starts its next entry with whatever calls are
// pending: its own, which arrived meanwhile. The follower's next forward
// arrives a moment later, after the answer's round trip and the
// follower's own handling, and waits for the whole of that entry before
// it is taken into the one after. Under 64 single-submit clients over
// three processes, a follower's forward took twice the leader's commit
// (6.1 against 3.0 ms) and entries held 21 jobs (docs/performance.md,
// 3 December, 14:50).
//
// So a follower that is busy marks its forward (SubmitGroupsCmd.More):
// its submits keep coming, and its next forward will likely follow as
// soon as this one is answered. Busy means the forward took calls that
// waited for the one before, or it left within busyGap of the last one's
// answer. After an entry that carried marked forwards, the leader waits,
// before it takes its next entry, until as many forwards have arrived
// since it answered them, or maxForwardWait has passed. It counts only
// those that arrived since the answer: two followers otherwise settle
// into taking turns, each forward arriving while the other's entry is in
// flight, so that the leader finds one pending whenever it looks, never
// waits, and every forward still waits for a whole entry. (A hold that
// counted the forwards pending, tried on 2 December, began in only 22–40
// of about a thousand entries for that reason.)
//
// An unmarked forward, a lone call on an otherwise quiet follower, makes
// the leader wait for nothing, so a quiet cluster's latency is
// unchanged. A mark can be wrong: the follower's load stopped, it died,
// or its next forward takes longer than maxForwardWait to come (a slow
// link, large batches its clients take long to send). A wait that runs
// out costs the leader's pending calls maxForwardWait, so after one the
// leader does not wait after the next entry with marked forwards, after
// two in a row the next two, and so on, doubling up to
// maxForwardWaitSkips; a wait that ends with the forwards resets it.
// The wait assumes one entry in flight (submitsInFlight): with more,
// another flush would take the calls meanwhile anyway, so there is none.

// maxForwardWait bounds how long the leader waits for the followers'
// next forwards (groupCommit.forwardWait). On two cores shared by three
// nodes and the load generator the forwards came 2.2–2.9 ms after the
// answer on average; a bound of 5 ms caught only part of them (entries
// of 23–29 jobs against 38 with 20 ms).
const maxForwardWait = 20 * time.Millisecond

// maxForwardWaitSkips bounds the entries after which a leader whose
// waits ran out does not wait (see above): at worst one wait of
// maxForwardWait in every maxForwardWaitSkips+1 entries with marked
// forwards.
const maxForwardWaitSkips = 64

// busyGap is how soon after its last entry's answer a batcher's next
// entry must leave for the batcher to count as busy. A follower whose
// clients each wait for an answer before they send again (the common
// client) sends its next forward a round trip to them after the last
// answer: a millisecond or two on a LAN, a few on a busy machine.
const busyGap = 5 * time.Millisecond

// busy reports whether a flush that starts at now finds the batcher
// busy: it follows another of the same loop (its calls waited for that
// one), or the last flush answered its calls less than busyGap before.
// The caller holds mu.
func (b *groupCommit[In, Out]) busy(followsAnother bool, now time.Time) bool {
	return followsAnother || (!b.lastEnd.IsZero() && now.Sub(b.lastEnd) < busyGap)
}

// doForward is do for a follower's forward: more says the follower had
// more calls waiting as it sent it (see above).
func (b *groupCommit[In, Out]) doForward(ctx context.Context, in In, more bool) (Out, error) {
	return b.doCall(ctx, &groupCall[In, Out]{in: in, done: make(chan struct{}), forward: true, more: more})
}

// awaitForwards waits, after an entry that carried `expect` forwards
// marked more, until as many forwards have arrived since its answer,
// b.forwardWait has passed, or the store closes; unless earlier waits
// ran out (see above).
func (b *groupCommit[In, Out]) awaitForwards(expect int) {
	if expect == 0 || b.maxInFlight != 1 {
		return
	}
	b.mu.Lock()
	skip := b.forwardWaitSkips > 0
	if skip {
		b.forwardWaitSkips--
	}
	b.mu.Unlock()
	if skip {
		return
	}
	defer since(b.forwardWaits, time.Now())
	t := time.NewTimer(b.forwardWait)
	defer t.Stop()
	for {
		b.mu.Lock()
		arrived := b.forwards-b.forwardsAtEnd >= uint64(expect)
		if arrived {
			b.forwardWaitMisses = 0
		}
		b.mu.Unlock()
		if arrived {
			return
		}
		select {
		case <-b.forwardIn:
		case <-t.C:
			b.mu.Lock()
			b.missedForwards()
			b.mu.Unlock()
			return
		case <-b.lifetime.Done():
			return
		}
	}
}

// missedForwards notes a wait that ran out: the leader skips the next
// 1, 2, 4 … up to maxForwardWaitSkips waits. The misses are clamped so
// that the shift stays small: 1<<63 and beyond would turn the skips off
// after a long run of misses. The caller holds mu.
func (b *groupCommit[In, Out]) missedForwards() {
	b.forwardWaitMisses = min(b.forwardWaitMisses+1, bits.Len(maxForwardWaitSkips))
	b.forwardWaitSkips = min(1<<(b.forwardWaitMisses-1), maxForwardWaitSkips)
}

// forwardsMarkedMore counts the forwards marked more in batch.
func forwardsMarkedMore[In, Out any](batch []*groupCall[In, Out]) int {
	n := 0
	for _, call := range batch {
		if call.forward && call.more {
			n++
		}
	}
	return n
}

type busyKey struct{}

// withBusy marks the context of a flush that found its batcher busy.
func withBusy(ctx context.Context) context.Context {
	return context.WithValue(ctx, busyKey{}, true)
}

// flushWasBusy reports whether ctx is a flush's marked by withBusy.
func flushWasBusy(ctx context.Context) bool {
	v, _ := ctx.Value(busyKey{}).(bool)
	return v
}
