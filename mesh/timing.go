package mesh

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// Timing holds memberlist's failure-detection and dissemination knobs. A
// zero field takes its value from [LANTiming].
//
// How long a crash takes to become "dead" everywhere, roughly: the wait
// until some member probes the dead node (under ProbeInterval on average),
// that failed probe (ProbeInterval, since indirect probes get the rest of the
// interval after ProbeTimeout), the suspicion timeout
// (SuspicionMult × max(1, log10 n) × ProbeInterval once enough members have
// confirmed the suspicion), and a gossip hop or two (GossipInterval each).
type Timing struct {
	ProbeInterval           time.Duration
	ProbeTimeout            time.Duration
	SuspicionMult           int
	SuspicionMaxTimeoutMult int
	GossipInterval          time.Duration
	GossipNodes             int
	RetransmitMult          int
	TCPTimeout              time.Duration
	PushPullInterval        time.Duration
	GossipToTheDeadTime     time.Duration
	DeadNodeReclaimTime     time.Duration
}

// LANTiming returns the timings Casare uses on a LAN. With memberlist's
// DefaultLANConfig a killed member of a six-node cluster took about 6 s to
// be declared dead (5.8–7.0 s in TestDeadDetection's setup); the product
// target is about 3 s at the Raft leader, so that a SIGKILLed robot's jobs
// are requeued quickly. With these timings the same setup measured about
// 2.5 s (medians of 2.3–3.1 s per run, no kill over 3.5 s, over 39 kills).
//
// On a LAN, round trips are well under a millisecond and a probe costs one
// small UDP packet, so probing and gossip can be several times more
// frequent than memberlist's defaults. What has to stay generous is the
// suspicion window: it is the time a slow but live node (a robot host busy
// driving Chromium, a GC pause) has to refute.
func LANTiming() Timing {
	return Timing{
		// Probe 2.5 times as often as memberlist's 1 s default: the probe
		// interval is paid twice (waiting for a probe, then the failed
		// probe) and scales the suspicion timeout too, and a probe costs a
		// node a few small UDP packets whatever the cluster size.
		ProbeInterval: 400 * time.Millisecond,

		// A direct probe that has no ack after 200 ms is far past any LAN
		// round trip; giving up then leaves the other 200 ms of the probe
		// interval for indirect probes and the TCP fallback, which keep a
		// single lost UDP packet from raising a suspicion.
		ProbeTimeout: 200 * time.Millisecond,

		// 4 × 400 ms = 1.6 s of suspicion up to 10 members (it grows with
		// log10 n beyond), which is what a live but stalled node has to
		// refute; refuting takes one gossip hop. Keeping memberlist's
		// multiplier rather than shrinking it keeps its requirement of
		// SuspicionMult−2 = 2 independent confirmations before the timer may
		// run down to that minimum, so one confused prober cannot kill a
		// healthy node on its own.
		SuspicionMult: 4,

		// Without confirmations (the prober is cut off from its peers, or
		// too few live members remain to confirm) the timer runs for
		// 3 × 1.6 s = 4.8 s instead of memberlist's 6×, so even such a view
		// converges in seconds, not tens of seconds.
		SuspicionMaxTimeoutMult: 3,

		// Gossip every 100 ms rather than 200 ms: a "dead" message then
		// reaches everyone within a few hundred milliseconds instead of
		// adding most of a second to detection at the leader.
		GossipInterval: 100 * time.Millisecond,

		// Four peers per gossip round instead of three: on a LAN the extra
		// packet is free, and it makes each hop of a broadcast reach a
		// larger share of a small cluster.
		GossipNodes: 4,

		// memberlist's default: each broadcast is sent 4 × ceil(log10(n+1))
		// times. LAN loss is rare, and the leave intent relies on this
		// count to reach every member before the leave itself.
		RetransmitMult: 4,

		// Joins and push/pull syncs use TCP. A LAN connect takes
		// milliseconds, so 3 s still absorbs a stalled peer while a join
		// against an unreachable seed fails fast enough to be retried
		// (memberlist's 10 s would eat most of a typical join deadline).
		TCPTimeout: 3 * time.Second,

		// Full state syncs repair anything gossip missed, including a leave
		// intent. Every 15 s (memberlist scales this up itself beyond 32
		// members) bounds how long a view can stay wrong, at the cost of one
		// TCP exchange per node per interval.
		PushPullInterval: 15 * time.Second,

		// memberlist's default: keep gossiping to a node for 30 s after its
		// death so that a node that was only slow hears it and refutes.
		GossipToTheDeadTime: 30 * time.Second,

		// Let a node that died come back under the same name from a new
		// address (a restarted robot got a new DHCP lease or an ephemeral
		// port) once its death had 2 s to reach everyone. memberlist's
		// default of never would lock the name out until the old entry is
		// reaped after GossipToTheDeadTime.
		DeadNodeReclaimTime: 2 * time.Second,
	}
}

// withDefaults fills zero fields from LANTiming.
func (t Timing) withDefaults() Timing {
	d := LANTiming()
	setDefault(&t.ProbeInterval, d.ProbeInterval)
	setDefault(&t.ProbeTimeout, d.ProbeTimeout)
	setDefault(&t.SuspicionMult, d.SuspicionMult)
	setDefault(&t.SuspicionMaxTimeoutMult, d.SuspicionMaxTimeoutMult)
	setDefault(&t.GossipInterval, d.GossipInterval)
	setDefault(&t.GossipNodes, d.GossipNodes)
	setDefault(&t.RetransmitMult, d.RetransmitMult)
	setDefault(&t.TCPTimeout, d.TCPTimeout)
	setDefault(&t.PushPullInterval, d.PushPullInterval)
	setDefault(&t.GossipToTheDeadTime, d.GossipToTheDeadTime)
	setDefault(&t.DeadNodeReclaimTime, d.DeadNodeReclaimTime)
	return t
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// apply copies the timings into a memberlist configuration.
func (t Timing) apply(c *memberlist.Config) {
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.GossipInterval = t.GossipInterval
	c.GossipNodes = t.GossipNodes
	c.RetransmitMult = t.RetransmitMult
	c.TCPTimeout = t.TCPTimeout
	c.PushPullInterval = t.PushPullInterval
	c.GossipToTheDeadTime = t.GossipToTheDeadTime
	c.DeadNodeReclaimTime = t.DeadNodeReclaimTime
}
