package consensus

import "time"

// A robot cut off from the cluster must stop working on its jobs before
// the leader hands them to another robot, or every side effect of those
// jobs runs twice. Three delays decide the order; they live together
// because the arithmetic only holds for the three as a set.
//
// Let S be the moment a robot sent the last heartbeat that the leader
// accepted (a claim counts as one). The leader stamped the lease's
// RenewedAt when it applied that heartbeat, so RenewedAt ≥ S.
//
//   - The robot fences itself at S + FenceAfter = S + 1.5 s: from then on
//     it starts no node of a job whose lease it cannot confirm, and
//     pauses each run at its next node boundary. It checks at every node
//     boundary, so the fence has no tick granularity; if it were checked
//     only when a heartbeat fails, it would fire by S + FenceAfter +
//     HeartbeatInterval = S + 2 s, still before the requeue.
//   - The leader requeues a job of a robot gossip reports dead or left
//     only when gossip has said so for RobotRequeueDelay = 3 s and the
//     job's lease has had no renewal for RobotRequeueDelay either, so at
//     the earliest at RenewedAt + 3 s ≥ S + 3 s.
//
// The fence thus comes at least RobotRequeueDelay − FenceAfter −
// HeartbeatInterval = 1 s before the requeue even in the coarse reading,
// which covers scheduling delays and clock skew between leaders. Gossip
// needs about 2.5 s to call a cut-off member dead (mesh.LANTiming), so a
// cut-off robot's jobs move about 5.5 s after the cut, against 2.5 s
// before fencing existed; the wait buys no double execution. A node that
// is already running when the fence fires finishes: the fence works at
// node boundaries, so side effects of that one node may still overlap.
const (
	// HeartbeatInterval is how often a robot reports progress and renews
	// its leases. Three heartbeats fit in FenceAfter, so a robot fences
	// only after three heartbeats in a row went unconfirmed (a leader
	// election usually costs one or two), not after one lost packet.
	HeartbeatInterval = 500 * time.Millisecond
	// FenceAfter is how long a robot runs a job without a confirmed
	// heartbeat before it pauses the run at the next node boundary.
	FenceAfter = 3 * HeartbeatInterval
	// RobotRequeueDelay is how long gossip must report a robot dead or
	// left, and its lease go unrenewed, before the leader requeues the
	// job. It must exceed FenceAfter + HeartbeatInterval (see above).
	RobotRequeueDelay = 3 * time.Second
	// maxRobotLosses bounds how often a job may lose its robot without
	// spending an attempt. Losing a robot to a cut or a crash is not the
	// job's fault, so it costs no attempt; but a job that crashes every
	// robot it runs on (a browser that eats all memory) looks exactly the
	// same to the leader, and must end. The design's "a job that crashed
	// its robot twice is dead" would also end a job whose robot merely
	// lost its link twice, so one more loss is allowed.
	maxRobotLosses = 3
)
