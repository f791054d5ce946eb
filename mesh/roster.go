package mesh

import (
	"slices"
	"strings"
	"time"

	"github.com/casare/casare/api/wire"
)

// Member states reported by [Mesh.Members] and [Mesh.MemberState].
const (
	StateAlive = wire.MemberAlive
	StateDead  = wire.MemberDead // stopped answering probes: crashed, killed or cut off
	StateLeft  = wire.MemberLeft // announced its departure with [Mesh.Leave]
)

// Member is one node as this node currently sees it.
type Member struct {
	Name  string
	Addr  string    // gossip host:port
	State string    // StateAlive, StateDead or StateLeft
	Since time.Time // when this node saw the member enter State
	Meta  Meta      // zero if the member's gossiped meta did not decode
}

// record is a member plus what the leave protocol needs to know about it.
type record struct {
	Member
	instance uint64 // the run of the member that Meta came from
	leaving  bool   // a leave intent for this instance arrived
}

func (r *record) snapshot() Member {
	m := r.Member
	m.Meta = m.Meta.clone()
	return m
}

// roster is the member table behind Members, MemberState and the events,
// including tombstones for members memberlist has forgotten. It is plain
// data: Mesh serialises access to it.
type roster struct {
	ttl           time.Duration // how long a tombstone is kept
	maxTombstones int
	records       map[string]*record
}

func newRoster(ttl time.Duration, maxTombstones int) *roster {
	return &roster{ttl: ttl, maxTombstones: maxTombstones, records: make(map[string]*record)}
}

// alive records that a member is alive with the given address and meta. It
// returns a join event when the member is new or back from a tombstone, an
// update event when something it advertises changed, and false otherwise.
func (r *roster) alive(name, addr string, meta Meta, instance uint64, now time.Time) (Event, bool) {
	rec, ok := r.records[name]
	if !ok || rec.State != StateAlive {
		rec = &record{
			Member:   Member{Name: name, Addr: addr, State: StateAlive, Since: now, Meta: meta},
			instance: instance,
		}
		r.records[name] = rec
		return Event{Type: EventJoin, Member: rec.snapshot()}, true
	}
	if rec.Addr == addr && rec.instance == instance && rec.Meta.equal(meta) {
		return Event{}, false
	}
	if rec.instance != instance {
		// The member restarted under the same name before anyone declared
		// it dead; an intent from the old run says nothing about this one.
		rec.instance = instance
		rec.leaving = false
	}
	rec.Addr = addr
	rec.Meta = meta
	return Event{Type: EventUpdate, Member: rec.snapshot()}, true
}

// gone records that memberlist no longer counts a member: it is "left" if
// it announced a leave for its current run, "dead" otherwise.
func (r *roster) gone(name, addr string, now time.Time) (Event, bool) {
	rec, ok := r.records[name]
	if !ok {
		// Only possible if memberlist never reported the member alive; keep
		// what little is known so that the death is still visible.
		rec = &record{Member: Member{Name: name, Addr: addr, State: StateAlive}}
		r.records[name] = rec
	}
	if rec.State != StateAlive {
		return Event{}, false
	}
	rec.State = StateDead
	if rec.leaving {
		rec.State = StateLeft
	}
	rec.Since = now
	r.prune(now)
	return Event{Type: rec.State, Member: rec.snapshot()}, true
}

// noteLeave records a leave intent from the run instance of member name.
// fresh reports whether the intent was news, so that the caller relays it.
// When the member had already been declared dead, the intent proves it left
// instead, and noteLeave returns the resulting "left" event with emit set.
func (r *roster) noteLeave(name string, instance uint64) (ev Event, emit, fresh bool) {
	rec, ok := r.records[name]
	if !ok || rec.instance != instance || rec.leaving {
		return Event{}, false, false
	}
	rec.leaving = true
	if rec.State != StateDead {
		return Event{}, false, true
	}
	rec.State = StateLeft
	return Event{Type: EventLeft, Member: rec.snapshot()}, true, true
}

// leaveIntents lists the intents worth repeating in a push/pull sync: those
// of members still on their way out and of members that left within window,
// which covers the time memberlist itself keeps gossiping about them.
func (r *roster) leaveIntents(now time.Time, window time.Duration) []leaveIntent {
	var intents []leaveIntent
	for _, rec := range r.records {
		if !rec.leaving {
			continue
		}
		if rec.State == StateAlive || (rec.State == StateLeft && now.Sub(rec.Since) < window) {
			intents = append(intents, leaveIntent{Name: rec.Name, Instance: rec.instance})
		}
	}
	return intents
}

// list returns every member, tombstones included, sorted by name.
func (r *roster) list(now time.Time) []Member {
	r.prune(now)
	members := make([]Member, 0, len(r.records))
	for _, rec := range r.records {
		members = append(members, rec.snapshot())
	}
	slices.SortFunc(members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return members
}

// state returns one member's state; expired tombstones are not reported.
func (r *roster) state(name string, now time.Time) (string, time.Time, bool) {
	r.prune(now)
	rec, ok := r.records[name]
	if !ok {
		return "", time.Time{}, false
	}
	return rec.State, rec.Since, true
}

func (r *roster) numAlive() int {
	n := 0
	for _, rec := range r.records {
		if rec.State == StateAlive {
			n++
		}
	}
	return n
}

// prune drops tombstones older than the TTL and then the oldest ones beyond
// the count limit, so that a fleet with churn cannot grow the table without
// bound.
func (r *roster) prune(now time.Time) {
	var tombstones []*record
	for name, rec := range r.records {
		if rec.State == StateAlive {
			continue
		}
		if now.Sub(rec.Since) > r.ttl {
			delete(r.records, name)
			continue
		}
		tombstones = append(tombstones, rec)
	}
	excess := len(tombstones) - r.maxTombstones
	if excess <= 0 {
		return
	}
	slices.SortFunc(tombstones, func(a, b *record) int { return a.Since.Compare(b.Since) })
	for _, rec := range tombstones[:excess] {
		delete(r.records, rec.Name)
	}
}
