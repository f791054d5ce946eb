package consensus

import (
	"path/filepath"
	"time"

	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// OpenLog opens the Raft log (raft.db) in dir as a node keeps it,
// exported so that the bench's raw Raft yardstick runs the same store.
func OpenLog(dir string) (*raftboltdb.BoltStore, error) {
	return raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db"), BoltOptions: logBoltOptions()})
}

// logBoltOptions are the bbolt options of the Raft log.
//
// bbolt's default writes the whole freelist, the list of every free
// page, on each commit: one commit per Raft log write. Raft frees pages
// by the thousand whenever a snapshot truncates the log, and a node that
// takes bursts of large submit entries keeps a long list, so every later
// log write carries it. NoFreelistSync skips that write; bbolt rebuilds
// the list when it opens, by walking the live log's pages and then the
// page numbers up to the file's end, which adds a fraction of a second
// to a restart of a large raft.db. The map freelist allocates without
// scanning a sorted list of every free page, as the default does. etcd
// runs bbolt so, and Consul names the freelist write as what slows its
// BoltDB log store after a burst. What it saved the nodes' CPU a job
// is in docs/performance.md (3 December, 07:00).
//
// A raft.db written either way opens either way with bbolt 1.3.1 or
// later: bbolt reads a synced freelist when there is one and rebuilds it
// when there is none (TestLogBoltOptionsOpenEitherWay).
//
// Timeout: the node's data dir lock keeps a second process away; should
// one get here anyway, bbolt's file lock fails it after a second rather
// than blocking it for good, deaf to signals.
func logBoltOptions() *bbolt.Options {
	return &bbolt.Options{Timeout: time.Second, NoFreelistSync: true, FreelistType: bbolt.FreelistMapType}
}
