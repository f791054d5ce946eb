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
package consensus
