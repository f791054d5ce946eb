package consensus

import "log/slog"

// The concerns of a Store. Each is a view of the same Store that declares
// the methods of one concern; Store embeds them all, so their methods are
// Store's, and a caller that needs one concern can take just that view
// (or, better, an interface of its own with the few methods it calls).

// Catalog keeps workflows and their versions.
type Catalog struct{ *Store }

// JobQueue queues, lists, cancels and re-runs jobs, holds the queue's
// rules (pauses, per-workflow settings), and reads the finished jobs and
// the live logs for the archive and the dashboard.
type JobQueue struct{ *Store }

// RobotQueue is the queue as robots use it (claims, heartbeats,
// completions, hand-backs and crash reports, each fenced by its lease's
// token), the robots' records and drains, and the leader's duties that
// expire leases and requeue the jobs of dead robots.
type RobotQueue struct{ *Store }

// Scheduler keeps cron schedules and, on the leader, fires them.
type Scheduler struct{ *Store }

// Credentials keeps robot tokens and API tokens, sessions and sign-in
// codes (hashes only), and checks a presented one.
type Credentials struct{ *Store }

// Membership is the Raft configuration: joining, leaving and removing
// servers, the leader's reaping of dead ones, and the servers' recorded
// addresses.
type Membership struct{ *Store }

// Replica is how far this node's copy of the state has applied, and how
// to catch up with everything acknowledged (linearizable reads).
type Replica struct{ *Store }

// Vault keeps sealed secrets and this server's vault keys, opens the
// secrets a claimed job needs, and rotates the vault key.
type Vault struct{ *Store }

// newStore makes a Store over f whose concerns all point at it.
func newStore(cfg Config, log *slog.Logger, f *fsm) *Store {
	s := &Store{cfg: cfg, log: log, fsm: f, timings: newTimings()}
	s.Catalog, s.JobQueue, s.RobotQueue, s.Scheduler = Catalog{s}, JobQueue{s}, RobotQueue{s}, Scheduler{s}
	s.Credentials, s.Membership, s.Replica, s.Vault = Credentials{s}, Membership{s}, Replica{s}, Vault{s}
	return s
}
