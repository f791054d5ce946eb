// Package consensus owns the replicated state of a Casare cluster: the
// Raft-backed finite state machine (workflows, jobs and the job queue,
// schedules, robot tokens and records, the cluster's node registry), its
// typed and versioned commands, snapshots, forwarding of writes from
// followers to the leader, and the duties only the leader performs
// (expiring leases, requeueing the jobs of dead robots, firing cron
// schedules, removing servers that stayed dead, removing finished jobs
// past retention). Other packages add leader duties through
// [LeaderDuty] (the archive does): started after the barrier, stopped
// with the rest; they read the state through the copy-on-read API
// ([Store.FinishedFrom], [Store.LiveLogs]), never inside Apply.
//
// # Design
//
// Data flows one way. A caller (the API, a robot, a leader duty) calls a
// [Store] method, which builds a command, encodes it as one type byte,
// the leader's timestamp and a JSON payload (command.go), and sends it
// down the one apply path (apply.go): appended to Raft on the leader,
// forwarded through the [Forwarder] on a follower. The call returns once
// the entry is committed and applied, with the FSM's answer; a
// business-rule failure comes back as an *[Error] with a code. Reads take
// the state's read lock and return copies, stamped with the applied index
// they saw.
//
// Concurrent submits, and the claims, completions and heartbeats of all
// the robots a node serves, are merged into one entry per kind (group
// commit, groupcommit.go), bounded in items and bytes, except that
// internet robots' claims share the entry of the reports
// (robot_work.go); heartbeats go out at most once per
// Config.ProgressInterval. Raft batches the rest (BatchApplyCh, and the
// FSM applies a batch under one lock). A write whose outcome is unknown
// because leadership moved is retried: every command is idempotent by the
// ids it carries (request ids, unique keys, ids derived from a schedule
// and fire time), so a repeat returns the first result.
//
// The FSM is deterministic: Apply never reads the clock, draws random
// numbers or does I/O. The leader stamps the time into each command
// envelope just before it is appended to the log, and every identifier a
// command creates is chosen by the node that built the command. A lease's
// fencing token is the Raft index of the claim that granted it, so tokens
// only grow and a report with a stale token is refused. The leader
// refuses a forwarded command it cannot decode before it reaches the
// log; an entry that is committed anyway and cannot be applied (it does
// not decode, or its handler panics) is skipped with an error result on
// every replica alike, never a panic that would stop them all for good.
//
// Observers (observe.go) see what every applied entry changed, on every
// replica: job state changes, node progress, schedule fires and skips,
// robot records and drains, with the entry's index and the job counts.
// Handlers note changes in a list nothing in the state reads, so the FSM
// stays deterministic; an observer runs on the apply goroutine and must
// never block (the API's event stream hub only appends to a ring).
//
// [Store] holds the Raft plumbing: opening, the apply path, the leader's
// loop. Its other methods are declared on the concerns it embeds
// (parts.go): [Catalog] (workflows), [JobQueue] (jobs and the queue's
// rules), [RobotQueue] (what robots call, and the duties that expire
// leases), [Scheduler], [Credentials] (robot and API tokens),
// [Membership] (the Raft configuration), [Replica] (applied index,
// consistent reads) and [Vault]. They are views of the same Store, so a
// Store has every method of each.
//
// Leadership is followed by one goroutine (leader.go): on gaining it, a
// Barrier, then every leader duty starts as one unit; on losing it,
// exactly those stop. docs/design.md in the repository has the whole
// picture.
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
// A consistent read writes nothing to the log (readindex.go): the leader
// notes its commit index, confirms that it still leads with a quorum's
// answers to heartbeats it sends after the read arrived (leaderproof.go;
// not raft.VerifyLeader, which counts answers sent before), and the
// reader waits until it has applied that index, as etcd does. Until a new leader's first barrier of its term has
// committed, its commit index may miss earlier leaders' commits, so it
// takes a barrier instead.
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
