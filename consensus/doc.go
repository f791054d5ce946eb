// Package consensus owns the replicated state of a Casare cluster: the
// Raft-backed finite state machine (workflows, jobs and the job queue,
// cluster node registry), its typed and versioned commands, snapshots,
// forwarding of writes from followers to the leader, and the duties only
// the leader performs.
//
// The FSM is deterministic: Apply never reads the clock, draws random
// numbers or does I/O. The leader stamps the time into each command
// envelope just before it is appended to the log, and every identifier a
// command creates is chosen by the node that built the command.
//
// # Requests without a leader
//
// Every write, consistent read and membership change goes through one
// routing loop (onLeader): applied here on the leader, otherwise
// forwarded to the leader this node knows, and retried while leadership
// moves. A forward is abandoned as soon as Raft reports a different
// leader, so a request caught by a leader cut is retried on the new
// leader at once instead of hanging on the old one's dead connection. For
// a write or a consistent read, a node that knows no leader (it neither
// leads nor follows anyone) waits at most Config.NoLeaderWait (3 × the
// election timeout) for one, then fails with CodeNoLeader, which the API
// turns into 503 with Retry-After; joins and removals wait out an
// election until their deadline.
//
// # Membership duties
//
// The leader removes a dead server only when gossip (Config.Liveness) and
// Raft agree it has been gone for the whole DeadServerGrace, at most one
// per grace period, and never below the voter target unless a live
// non-voter is promoted first (see reap.go for the rules, after Consul's
// autopilot). Raft's per-follower contact is not part of its API; the
// store learns it from Raft's heartbeat observations (watch.go). An
// operator removes a voter that is gone for good with RemoveServer and
// RemoveRequest.Operator.
package consensus
