package mesh

import (
	"log/slog"
	"sync"
	"sync/atomic"
)

// Event types delivered by [Mesh.Subscribe].
const (
	EventJoin   = "join"   // a member became alive: first seen, or back after dead/left
	EventUpdate = "update" // an alive member changed its address or Meta, or restarted
	EventDead   = "dead"   // a member stopped answering probes
	EventLeft   = "left"   // a member left with Leave (possibly after first being reported dead)
)

// Event is one membership change. Member is the member as it was right
// after the change.
type Event struct {
	Type   string
	Member Member
}

// defaultEventBuffer is the channel capacity Subscribe uses when asked for
// none: enough to absorb a whole rack of robots joining at once.
const defaultEventBuffer = 256

// fanout copies each event to every subscriber without ever blocking:
// events are published from inside memberlist's callbacks, which hold
// memberlist's node lock, so one slow reader would otherwise stall probing
// and gossip for the whole node.
type fanout struct {
	logger  *slog.Logger
	dropped atomic.Uint64 // events lost by all subscribers, ever

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed bool
}

type subscriber struct {
	ch     chan Event
	streak uint64 // events dropped since this subscriber last kept up
}

func newFanout(logger *slog.Logger) *fanout {
	return &fanout{logger: logger, subs: make(map[*subscriber]struct{})}
}

// subscribe registers a subscriber. Its channel is closed by the returned
// function or when the fanout closes, whichever comes first.
func (f *fanout) subscribe(buf int) (<-chan Event, func()) {
	if buf <= 0 {
		buf = defaultEventBuffer
	}
	s := &subscriber{ch: make(chan Event, buf)}

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	f.subs[s] = struct{}{}
	return s.ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[s]; ok {
			delete(f.subs, s)
			close(s.ch)
		}
	}
}

// publish hands ev to every subscriber that has room and drops it for the
// others, logging once when a subscriber starts falling behind and once
// when it catches up, rather than once per lost event.
func (f *fanout) publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.ch <- ev:
			if s.streak > 0 {
				f.logger.Warn("gossip event subscriber caught up", "dropped", s.streak)
				s.streak = 0
			}
		default:
			f.dropped.Add(1)
			s.streak++
			if s.streak == 1 {
				f.logger.Warn("gossip event subscriber is not keeping up; dropping events",
					"event", ev.Type, "member", ev.Member.Name, "buffer", cap(s.ch))
			}
		}
	}
}

// close closes every subscriber's channel so that readers ranging over it
// finish; later subscriptions get a closed channel.
func (f *fanout) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for s := range f.subs {
		delete(f.subs, s)
		close(s.ch)
	}
}
