package mesh

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Message types on memberlist's user-message channel: one type byte, then
// a JSON payload. Types are append-only; an unknown type comes from a newer
// node and is ignored.
const msgLeaveIntent byte = 1

// Format of the state this package adds to memberlist's push/pull syncs:
// one version byte, then JSON.
const pushPullV1 byte = 1

// leaveIntent announces that the run Instance of node Name is leaving.
type leaveIntent struct {
	Name     string `json:"n"`
	Instance uint64 `json:"i"`
}

type pushPullState struct {
	Leaving []leaveIntent `json:"l,omitempty"`
}

// intentBroadcast carries a leave intent through memberlist's
// retransmit-limited broadcast queue.
type intentBroadcast struct {
	intent leaveIntent
	msg    []byte
	done   chan struct{} // closed once sent its retransmit count or superseded; nil if nobody waits
}

func newIntentBroadcast(in leaveIntent, done chan struct{}) (*intentBroadcast, error) {
	payload, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode leave intent for %s: %w", in.Name, err)
	}
	return &intentBroadcast{intent: in, msg: append([]byte{msgLeaveIntent}, payload...), done: done}, nil
}

// Invalidates replaces a queued intent for the same node: only the newest
// run of a node can be leaving.
func (b *intentBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(*intentBroadcast)
	return ok && o.intent.Name == b.intent.Name
}

func (b *intentBroadcast) Message() []byte { return b.msg }

func (b *intentBroadcast) Finished() {
	if b.done != nil {
		close(b.done)
	}
}

// announceLeave gossips this node's leave intent and waits until it has
// been sent its full retransmit count, so that peers hold the intent before
// memberlist's own leave message reaches them. The count alone does not
// make sure: one gossip round may spend it on fewer peers than there are
// (memberlist draws them at random and may draw one twice), and a peer
// that missed it then hears of the intent only from a relay, which races
// with memberlist's leave message and loses now and then ("dead", then
// "left"). So the intent also goes to every member over TCP
// (sendIntentDirect), before memberlist's leave is sent at all.
func (m *Mesh) announceLeave(ctx context.Context) error {
	in := leaveIntent{Name: m.name, Instance: m.instance}
	m.mu.Lock()
	_, _, fresh := m.roster.noteLeave(in.Name, in.Instance)
	alone := m.roster.numAlive() <= 1
	m.mu.Unlock()
	if !fresh || alone {
		// With no one to tell, the queue would never send the intent.
		return nil
	}
	done := make(chan struct{})
	b, err := newIntentBroadcast(in, done)
	if err != nil {
		return err
	}
	m.broadcasts.QueueBroadcast(b)
	m.sendIntentDirect(b.msg)
	timer := time.NewTimer(maxWait)
	defer timer.Stop()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("announce leave: %w", ctx.Err())
	case <-timer.C:
		return fmt.Errorf("announce leave: intent not sent within %s", maxWait)
	}
}

// sendIntentDirect sends a leave intent message to every other member
// over memberlist's reliable (TCP) channel, all at once, and returns when
// each send has finished or failed (within TCPTimeout). A failed send is
// only logged: the gossiped intent and push/pull syncs still reach that
// member.
func (m *Mesh) sendIntentDirect(msg []byte) {
	self := m.ml.LocalNode().Name
	var wg sync.WaitGroup
	for _, n := range m.ml.Members() {
		if n.Name == self {
			continue
		}
		wg.Go(func() {
			if err := m.ml.SendReliable(n, msg); err != nil {
				m.logger.Debug("leave intent not sent directly; gossip carries it", "member", n.Name, "err", err)
			}
		})
	}
	wg.Wait()
}

// applyLeaveIntent records a leave intent from a peer and, if it was news
// and came by gossip, relays it so that it reaches every member.
func (m *Mesh) applyLeaveIntent(in leaveIntent, relay bool) {
	m.mu.Lock()
	if m.frozen {
		m.mu.Unlock()
		return
	}
	ev, emit, fresh := m.roster.noteLeave(in.Name, in.Instance)
	if emit {
		m.logEvent(ev)
		m.events.publish(ev)
	}
	m.mu.Unlock()

	if !fresh || !relay {
		return
	}
	b, err := newIntentBroadcast(in, nil)
	if err != nil {
		m.logger.Error("cannot relay leave intent", "member", in.Name, "err", err)
		return
	}
	m.broadcasts.QueueBroadcast(b)
}

// observe applies one change reported by memberlist to the member table
// and publishes the resulting event in the same critical section, so that
// subscribers see events in the order the table changed.
func (m *Mesh) observe(change func(r *roster, now time.Time) (Event, bool)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.frozen {
		return
	}
	ev, ok := change(m.roster, time.Now())
	if !ok {
		return
	}
	m.numAlive.Store(int64(m.roster.numAlive()))
	m.logEvent(ev)
	m.events.publish(ev)
}

func (m *Mesh) logEvent(ev Event) {
	level := slog.LevelInfo
	if ev.Type == EventUpdate {
		level = slog.LevelDebug
	}
	m.logger.Log(context.Background(), level, "gossip member "+ev.Type,
		"member", ev.Member.Name, "addr", ev.Member.Addr)
}

// delegate receives memberlist's callbacks. They run on memberlist's
// goroutines, some with its node lock held, so they must return quickly
// and must not call back into memberlist.
type delegate struct{ m *Mesh }

// NodeMeta serves the encoded local Meta; encodeMeta has already checked it
// against limit, which is always memberlist.MetaMaxSize.
func (d delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	return d.m.meta
}

func (d delegate) NotifyMsg(msg []byte) {
	if len(msg) == 0 {
		return
	}
	switch msg[0] {
	case msgLeaveIntent:
		var in leaveIntent
		if err := json.Unmarshal(msg[1:], &in); err != nil {
			d.m.logger.Warn("dropping undecodable leave intent", "err", err)
			return
		}
		d.m.applyLeaveIntent(in, true)
	default:
		d.m.logger.Debug("ignoring gossip message of unknown type, probably from a newer node", "type", msg[0])
	}
}

func (d delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.m.broadcasts.GetBroadcasts(overhead, limit)
}

// LocalState adds recent leave intents to a push/pull sync, which repairs
// peers that missed the gossiped ones.
func (d delegate) LocalState(join bool) []byte {
	d.m.mu.Lock()
	intents := d.m.roster.leaveIntents(time.Now(), d.m.intentWindow)
	d.m.mu.Unlock()
	if len(intents) == 0 {
		return nil
	}
	payload, err := json.Marshal(pushPullState{Leaving: intents})
	if err != nil {
		d.m.logger.Error("cannot encode push/pull state", "err", err)
		return nil
	}
	return append([]byte{pushPullV1}, payload...)
}

func (d delegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) == 0 {
		return
	}
	if buf[0] != pushPullV1 {
		d.m.logger.Debug("ignoring push/pull state of unknown version, probably from a newer node", "version", buf[0])
		return
	}
	var state pushPullState
	if err := json.Unmarshal(buf[1:], &state); err != nil {
		d.m.logger.Warn("dropping undecodable push/pull state", "err", err)
		return
	}
	for _, in := range state.Leaving {
		d.m.applyLeaveIntent(in, false)
	}
}

func (d delegate) NotifyJoin(n *memberlist.Node)   { d.m.observeAlive(n) }
func (d delegate) NotifyUpdate(n *memberlist.Node) { d.m.observeAlive(n) }

// NotifyLeave fires for dead and left nodes alike (and n.State does not
// say which); the roster decides from the leave intents it has seen.
func (d delegate) NotifyLeave(n *memberlist.Node) {
	name, addr := n.Name, n.Address()
	d.m.observe(func(r *roster, now time.Time) (Event, bool) { return r.gone(name, addr, now) })
}

func (m *Mesh) observeAlive(n *memberlist.Node) {
	name, addr := n.Name, n.Address()
	meta, instance, err := decodeMeta(n.Meta)
	if err != nil {
		m.logger.Warn("gossip member's meta does not decode; listing it without meta",
			"member", name, "addr", addr, "err", err)
	}
	m.observe(func(r *roster, now time.Time) (Event, bool) { return r.alive(name, addr, meta, instance, now) })
}
