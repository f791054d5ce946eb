package consensus

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// TestLogBoltOptionsOpenEitherWay upgrades and downgrades a raft.db: one
// written with bbolt's default options (a synced freelist, as nodes
// before logBoltOptions wrote it) opens with logBoltOptions, one written
// with those opens with them again (every restart) and with the
// defaults, each with every entry kept and free pages reused: bbolt's
// own check finds no page leaked or used twice, and the file stays
// small.
func TestLogBoltOptionsOpenEitherWay(t *testing.T) {
	path := filepath.Join(t.TempDir(), "raft.db")
	// A fixed page size keeps the file's size the same on every platform.
	logOpts := *logBoltOptions()
	logOpts.PageSize = 4096
	defaults := &bbolt.Options{Timeout: logOpts.Timeout, PageSize: 4096}
	next := uint64(1)
	for round, opts := range []*bbolt.Options{defaults, &logOpts, &logOpts, defaults, &logOpts, defaults} {
		store, err := raftboltdb.New(raftboltdb.Options{Path: path, BoltOptions: opts})
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		if round > 0 {
			checkLogs(t, store, next-100, next-1)
		}
		// Large entries, most of them then truncated as a snapshot would,
		// leave many free pages for the next round to reuse.
		var logs []*raft.Log
		for range 400 {
			logs = append(logs, &raft.Log{Index: next, Term: 1, Type: raft.LogCommand, Data: fmt.Appendf(make([]byte, 0, 8192), "%08d%08184d", next, 0)})
			next++
		}
		if err := store.StoreLogs(logs); err != nil {
			t.Fatalf("round %d: store: %v", round, err)
		}
		first, _ := store.FirstIndex()
		if err := store.DeleteRange(first, next-101); err != nil {
			t.Fatalf("round %d: truncate: %v", round, err)
		}
		checkLogs(t, store, next-100, next-1)
		if err := store.Close(); err != nil {
			t.Fatalf("round %d: close: %v", round, err)
		}
	}
	// The last round wrote a synced freelist, so a read-only open sees
	// the free pages as they are and Check can tell a leak.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// 100 entries stay and a round holds 500 at the most (the file was
	// 5.2 MB when this was written); without reuse it would hold all
	// 2,400 written, over 20 MiB.
	if err := db.View(func(tx *bbolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("raft.db: %v", err)
		}
		if size := tx.Size(); size > 8<<20 {
			t.Errorf("raft.db is %d bytes after six rounds: free pages were not reused", size)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func checkLogs(t *testing.T, store *raftboltdb.BoltStore, first, last uint64) {
	t.Helper()
	if got, _ := store.FirstIndex(); got != first {
		t.Fatalf("first index %d, want %d", got, first)
	}
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := store.GetLog(i, &l); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if want := fmt.Sprintf("%08d", i); string(l.Data[:8]) != want {
			t.Fatalf("entry %d holds %q", i, l.Data[:8])
		}
	}
}
