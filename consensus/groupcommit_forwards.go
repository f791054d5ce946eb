package consensus

import (
	"context"
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
// it is taken into the one after. Under steady load every forward came in
// just too late, and a follower's submits waited for about two of the
// leader's entries besides their own: under 64 single-submit clients over
// three processes, followers' forwards took twice the leader's commit
// (6.1 ms against 3.0) and entries held 21 jobs.
//
// So a follower that is busy marks its forward (SubmitGroupsCmd.More):
// its submits keep coming, and its next forward will follow as soon as
// this one is answered. Busy means the forward took calls that waited
// for the one before, or it left within busyGap of the last one's
// answer. After an entry that carried marked forwards, the leader waits,
// before it takes its next entry, until as many forwards have arrived
// since it answered them, or maxForwardWait has passed. It counts only
// those that arrived since: two followers can otherwise settle into
// taking turns, each forward arriving while the other's entry is in
// flight, the leader finding one pending whenever it looks and never
// waiting, and each forward still waiting for a whole entry. An unmarked forward, a lone call on
// an otherwise quiet follower, makes the leader wait for nothing, so a
// quiet cluster's latency is unchanged; a load that stops, or a
// follower that dies, costs the leader's next entry maxForwardWait at most,
// once.

// maxForwardWait bounds how long the leader waits for the followers' next
// forwards. It is several times what a forward's answer and the next
// forward take on a busy machine (a few milliseconds on two cores
// shared by three nodes and the load generator), so that a late
// follower is still waited for, and short beside the p99 of a submit
// under that load (about 20 ms).
const maxForwardWait = 20 * time.Millisecond

// busyGap is how soon after its last entry's answer a batcher's next
// entry must leave for the batcher to count as busy. A follower whose
// clients each wait for an answer before they send again (the common
// client) sends its next forward a round trip to them after the last
// answer: a millisecond or two on a LAN, a few on a busy machine.
const busyGap = 5 * time.Millisecond

// busy reports whether a flush that is about to start finds the batcher
// busy: it follows another of the same loop (its calls waited for that
// one), or the last flush answered its calls less than busyGap ago. The
// caller holds mu.
func (b *groupCommit[In, Out]) busy(followsAnother bool) bool {
	return followsAnother || (!b.lastEnd.IsZero() && time.Since(b.lastEnd) < busyGap)
}

// doForward is do for a follower's forward: more says the follower had
// more calls waiting as it sent it (see above).
func (b *groupCommit[In, Out]) doForward(ctx context.Context, in In, more bool) (Out, error) {
	var zero Out
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	call := &groupCall[In, Out]{in: in, done: make(chan struct{}), forward: true, more: more}
	if err := b.enqueue(call); err != nil {
		return zero, err
	}
	return b.await(ctx, call)
}

// awaitForwards waits, after an entry that carried `expect` forwards
// marked more, until as many forwards have arrived since its answer,
// b.forwardWait has passed, or the store closes.
func (b *groupCommit[In, Out]) awaitForwards(expect int) {
	if expect == 0 {
		return
	}
	defer since(b.forwardWaits, time.Now())
	t := time.NewTimer(b.forwardWait)
	defer t.Stop()
	for {
		b.mu.Lock()
		got := b.forwards - b.forwardsAtEnd
		b.mu.Unlock()
		if got >= uint64(expect) {
			return
		}
		select {
		case <-b.forwardIn:
		case <-t.C:
			return
		case <-b.lifetime.Done():
			return
		}
	}
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
