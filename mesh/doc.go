// Package mesh owns gossip membership for a Casare node: which servers and
// LAN robots exist, what each one advertises (its [Meta]: roles, HTTP, Raft
// and QUIC addresses, robot tags, capacity, version) and whether each one is
// alive, dead or gone on purpose.
//
// It runs hashicorp/memberlist with timings tuned for a LAN (see
// [LANTiming]) and turns memberlist's callbacks into a member table
// ([Mesh.Members], [Mesh.MemberState]) and a stream of [Event]s
// ([Mesh.Subscribe]). The Raft leader uses both to requeue the jobs of a
// robot that died and to reap servers that stayed dead.
//
// Internet robots are not gossip members: NAT breaks UDP probing, so they
// are tracked by their QUIC session instead.
//
// # Design
//
// Data flows in from memberlist and out to the node: memberlist's
// callbacks (joins, leaves, metadata updates, push/pull state) update one
// member table under the Mesh's lock; each change becomes an [Event] sent
// to subscribers, and the table answers the store's liveness questions
// (consensus.Liveness) and the API's fleet view. What flows out through
// gossip is small by design: the node's [Meta] (capped at 512 bytes) and
// leave intents. Anything larger, or anything that must not be lost, goes
// through Raft instead. The package knows nothing of jobs or Raft.
//
// # Dead versus left
//
// memberlist reports a crashed node and a node that left through the same
// callback, EventDelegate.NotifyLeave, and in v0.7.0 the Node.State field it
// hands over is never filled in (the real state lives in an unexported field
// that shadows it), so a callback cannot tell the two apart. Mesh therefore
// does what Serf does: [Mesh.Leave] first gossips a leave intent naming the
// node and its run (an instance number carried in the gossiped meta), sends
// it to every member over TCP as well (gossip picks its peers at random, so
// its retransmit count can miss one), waits until the gossiped intent has
// been sent its full retransmit count, and only then calls memberlist's
// Leave. A member that disappears after its intent arrived
// is "left"; one that disappears without it is "dead". An intent that arrives
// after the death was recorded turns the tombstone into "left" and emits a
// "left" event, and every push/pull sync carries recent intents, so a node
// that missed the gossip converges too.
//
// # No suspect state
//
// memberlist v0.7.0 keeps suspicion entirely private: it calls no delegate
// when a node becomes suspect or refutes a suspicion, and Members returns
// suspect nodes with the same zero Node.State as alive ones. Polling cannot
// see what is not exposed, and parsing its log lines would break silently on
// an upgrade, so Mesh reports only what memberlist actually tells it:
// "alive", "dead" and "left". With [LANTiming] a node that stops answering
// is suspect for about 1.6 s before it is declared dead.
//
// # Reconnecting after a cut
//
// memberlist never contacts a member again once it has declared it dead,
// so after a network cut longer than the suspicion timeout both sides stay
// dead to each other when the link is back. Like Serf, Mesh retries: every
// [Reconnect.Interval] (default [DefaultReconnectInterval], 2 s) it joins
// again every dead member at its last address, plus the addresses
// [Reconnect.Peers] lists (the node lists its Raft servers), until the
// member is alive again, has left, its tombstone expires or
// [Reconnect.Retry] says it is gone for good. The push/pull sync of that
// join tells each side that the other declared it dead; each refutes with
// a higher incarnation, and a healed link converges within one interval
// plus a probe round.
//
// # Tombstones
//
// memberlist forgets dead and left nodes after a while. Mesh remembers them,
// with the time they went away, for [Config.TombstoneTTL] and at most
// [Config.MaxTombstones] of them, so that a leader elected later can still
// see that a robot died. A member that comes back alive replaces its
// tombstone.
package mesh
