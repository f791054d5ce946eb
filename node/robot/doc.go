// Package robot is the robot runtime: it claims jobs from a [Queue],
// runs each with the executor's engine, and reports heartbeats,
// checkpoints, logs and completions back in batches.
//
// # Design
//
// A [Robot] runs a claim loop (robot.go) that asks its queue for as many
// jobs as it has free slots, retrying a claim whose answer was lost under
// the same request id so that the leader hands back the jobs it already
// leased. Each job runs in its own goroutine (execute.go) with a run
// buffer (run.go) that gathers the engine's events and its latest
// checkpoint; a reporter (report.go) sends one batched heartbeat per
// tick for every running job, and early when a run checkpoints, and
// batches completions. Workflow versions are cached parsed and prepared
// for the engine (plans.go): versions never change.
//
// A run that cannot confirm its lease stops starting nodes (fence.go)
// before the leader may hand its job to another robot. Runs are noted in a
// crash journal in the data dir (crashjournal.go), so a run that killed
// the robot's process is reported as a crash when the robot comes back.
//
// The queue is the only thing a robot knows of the cluster:
//   - [StoreQueue]: a LAN robot on a server uses its node's own replicated
//     store, which forwards claims and reports to the leader;
//   - [TunnelQueue]: an internet robot (`casare robot connect`) dials a
//     node's QUIC gateway with a robot token and speaks the protocol of
//     node/gatewayproto over mesh/tunnel;
//   - package node adds a third for robot-only nodes, which call a
//     server's internal endpoints (node/peer).
//
// The package does not start the robot: package node does for a node's
// LAN robot, cmd/casare for an internet robot.
package robot
