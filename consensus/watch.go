package consensus

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// observationBuffer is how many Raft observations may wait for the
// watcher. Raft never blocks on a non-blocking observer; a burst beyond
// this (a leader failing heartbeats to many peers at once) is dropped,
// and the watcher then forgets what it could have missed (see
// raftWatch.sync) rather than act on a stale view.
const observationBuffer = 256

// failureFresh is how recent the last failed heartbeat to a follower must
// be for the follower to count as unreachable. While a follower cannot be
// reached, Raft's heartbeat loop reports a failure at least every ~10 s
// (the transport's 10 s dial and I/O timeout, then at most half a
// heartbeat timeout of backoff). A record older than that is stale: the
// report came from a heartbeat loop of an earlier term that ended late,
// and this term's loop, which succeeds, will never report "resumed".
const failureFresh = 15 * time.Second

// contactLoss is what the leader knows of a follower it cannot reach.
type contactLoss struct {
	since time.Time // last successful contact
	last  time.Time // last failed heartbeat
}

// raftWatch follows what Raft observes about leadership and about the
// leader's contact with each follower, which Raft does not otherwise
// expose: who the leader is (with a channel closed at every change, so
// that a forwarded request can be abandoned the moment the leader it went
// to is no longer the leader) and, on the leader, which followers have
// failed every heartbeat since when.
type raftWatch struct {
	observer *raft.Observer
	ch       chan raft.Observation

	mu          sync.Mutex
	changed     chan struct{} // closed and replaced at every leader change
	unreachable map[raft.ServerID]contactLoss
	dropped     uint64 // observer drops already accounted for
	// leaderless is since when requests have found this node without a
	// leader, in the leader generation whose change channel is gen.
	leaderless struct {
		since time.Time
		gen   <-chan struct{}
	}
}

func newRaftWatch() *raftWatch {
	w := &raftWatch{
		ch:          make(chan raft.Observation, observationBuffer),
		changed:     make(chan struct{}),
		unreachable: make(map[raft.ServerID]contactLoss),
	}
	w.observer = raft.NewObserver(w.ch, false, func(o *raft.Observation) bool {
		switch o.Data.(type) {
		case raft.LeaderObservation, raft.FailedHeartbeatObservation, raft.ResumedHeartbeatObservation:
			return true
		}
		return false
	})
	return w
}

// run consumes observations until ctx ends.
func (w *raftWatch) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case o := <-w.ch:
			w.note(o.Data)
		}
	}
}

func (w *raftWatch) note(data any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch d := data.(type) {
	case raft.LeaderObservation:
		w.leaderChanged()
	case raft.FailedHeartbeatObservation:
		// LastContact is the last successful heartbeat or append to the
		// peer in this term, or the start of replication to it when there
		// was none: a new leader never inherits an old leader's clock. It
		// only grows, so the latest report is the truest (and the most
		// cautious).
		loss := w.unreachable[d.PeerID]
		loss.since, loss.last = maxTime(loss.since, d.LastContact), time.Now()
		w.unreachable[d.PeerID] = loss
	case raft.ResumedHeartbeatObservation:
		delete(w.unreachable, d.PeerID)
	}
}

// leaderChanged wakes everyone waiting on the old leader and restarts
// the per-follower contact record, which belongs to one leader's term.
func (w *raftWatch) leaderChanged() {
	close(w.changed)
	w.changed = make(chan struct{})
	clear(w.unreachable)
}

// sync forgets everything observations could have changed if Raft
// dropped some since the last call: a lost "resumed" would otherwise
// keep a reachable follower listed as unreachable, and a lost leader
// change would keep a forward waiting on the wrong leader.
func (w *raftWatch) sync() {
	dropped := w.observer.GetNumDropped()
	if dropped == w.dropped {
		return
	}
	w.dropped = dropped
	w.leaderChanged()
}

// leaderChange returns a channel that is closed when the leader changes.
func (w *raftWatch) leaderChange() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sync()
	return w.changed
}

// unreachableSince reports since when the leader has had no successful
// contact with peer, if every heartbeat to it has failed since then.
func (w *raftWatch) unreachableSince(peer raft.ServerID) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sync()
	loss, ok := w.unreachable[peer]
	if !ok || time.Since(loss.last) > failureFresh {
		return time.Time{}, false
	}
	return loss.since, true
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// leaderlessSince returns since when requests have found this node
// without a leader while gen, a channel leaderChange returned, is the
// current generation: the first request to ask in a generation sets it.
// A request that waits behind another (a merged entry in flight) thus
// counts the node's time without a leader, not only its own; a leader
// change in between starts a new generation, so an old mark never
// shortens a new wait.
func (w *raftWatch) leaderlessSince(gen <-chan struct{}) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.leaderless.gen != gen {
		w.leaderless.since, w.leaderless.gen = time.Now(), gen
	}
	return w.leaderless.since
}
