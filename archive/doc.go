// Package archive keeps a Casare cluster's history in Postgres: finished
// jobs with their attempts and log lines, workflows and their versions,
// schedules and every fire (skipped and late ones with the reason), and
// robots; statistics views and full-text search over them.
//
// Raft stays the source of truth. Only the leader archives (Archiver is
// a consensus.LeaderDuty), and it reads the replicated state through the
// store's copy-on-read API, so Postgres being slow or gone never blocks
// an apply. It writes a few batches side by side, then moves its
// position, a Raft index kept in Postgres, past the ones written, in a
// transaction that waits for the disk: a new leader, or the same one
// after an outage, resumes from there, and retention never lets a job
// leave Raft that Postgres could still lose. Rows are keyed by the ids
// Raft chose, and a batch that finds its rows there already is written
// again with upserts, so writing a range twice (a leader that died
// between its write and its position move) doubles nothing. Jobs from
// snapshots older than the finishing index all carry index 0, which a
// position cannot pass: each term writes them once, then reads on from 1.
//
// The schema is versioned with goose; the migrations are embedded and
// applied when a node opens the archive, under Postgres's advisory lock
// so that nodes starting together do not race.
package archive
