package consensus

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"
)

func cacheEntry(idx uint64, size int) *raft.Log {
	return &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand, Data: bytes.Repeat([]byte{byte(idx)}, size)}
}

// storeCounter counts the reads that reach the store below the cache.
type storeCounter struct {
	raft.LogStore
	reads int
}

func (s *storeCounter) GetLog(idx uint64, l *raft.Log) error {
	s.reads++
	return s.LogStore.GetLog(idx, l)
}

func mustGet(t *testing.T, c *logCache, idx uint64) *raft.Log {
	t.Helper()
	var l raft.Log
	if err := c.GetLog(idx, &l); err != nil {
		t.Fatalf("get %d: %v", idx, err)
	}
	if l.Index != idx || len(l.Data) == 0 || l.Data[0] != byte(idx) {
		t.Fatalf("get %d read entry %d (%d bytes)", idx, l.Index, len(l.Data))
	}
	return &l
}

// TestLogCacheBoundsBytes checks that the cache serves the newest entries
// that fit both bounds, and that older ones still come from the store.
func TestLogCacheBoundsBytes(t *testing.T) {
	store := &storeCounter{LogStore: raft.NewInmemStore()}
	c, err := newLogCache(store, 8, 1000, newTimings().logWrite)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 10; i++ {
		if err := c.StoreLog(cacheEntry(i, 300)); err != nil {
			t.Fatal(err)
		}
	}
	if c.count != 3 || c.bytes != 900 {
		t.Fatalf("the cache holds %d entries, %d bytes; want the newest 3 (900 bytes) under a 1000-byte bound", c.count, c.bytes)
	}
	for i := uint64(8); i <= 10; i++ {
		mustGet(t, c, i)
	}
	if store.reads != 0 {
		t.Fatalf("%d reads of cached entries reached the store", store.reads)
	}
	for i := uint64(1); i <= 7; i++ {
		mustGet(t, c, i)
	}
	if store.reads != 7 {
		t.Fatalf("%d reads of evicted entries reached the store, want 7", store.reads)
	}
	// Small entries: the entry bound holds.
	if err := c.StoreLogs([]*raft.Log{cacheEntry(11, 1), cacheEntry(12, 1), cacheEntry(13, 1), cacheEntry(14, 1),
		cacheEntry(15, 1), cacheEntry(16, 1), cacheEntry(17, 1), cacheEntry(18, 1), cacheEntry(19, 1)}); err != nil {
		t.Fatal(err)
	}
	if c.count != 8 || c.ring[c.head].Index != 12 {
		t.Fatalf("the cache holds %d entries from %d, want 8 from 12", c.count, c.ring[c.head].Index)
	}
	// An entry larger than the byte bound is still cached, alone.
	if err := c.StoreLog(cacheEntry(20, 5000)); err != nil {
		t.Fatal(err)
	}
	if c.count != 1 {
		t.Fatalf("after an entry over the bound the cache holds %d entries, want 1", c.count)
	}
}

// TestLogCacheForgetsOnDeleteAndGap checks that the cache never answers
// with an entry the store no longer has, nor from a broken run of indexes.
func TestLogCacheForgetsOnDeleteAndGap(t *testing.T) {
	store := &storeCounter{LogStore: raft.NewInmemStore()}
	c, err := newLogCache(store, 4, 1<<20, newTimings().logWrite)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(1); i <= 4; i++ {
		if err := c.StoreLog(cacheEntry(i, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeleteRange(3, 4); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := c.GetLog(4, &l); err == nil {
		t.Fatalf("entry 4 read after its deletion: %+v", l)
	}
	// A snapshot restore can leave a gap: entries after it start anew.
	if err := c.StoreLog(cacheEntry(9, 10)); err != nil {
		t.Fatal(err)
	}
	if err := c.StoreLog(cacheEntry(10, 10)); err != nil {
		t.Fatal(err)
	}
	if c.count != 2 {
		t.Fatalf("after a gap the cache holds %d entries, want 2", c.count)
	}
	mustGet(t, c, 10)
	mustGet(t, c, 2) // from the store
	if _, err := newLogCache(store, 0, 1, newTimings().logWrite); err == nil {
		t.Fatal("a cache of 0 entries was made")
	}
}

// TestLogCacheConcurrentReads runs reads against writes for the race
// detector.
func TestLogCacheConcurrentReads(t *testing.T) {
	c, err := newLogCache(raft.NewInmemStore(), 16, 4096, newTimings().logWrite)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		for i := uint64(1); i <= 500; i++ {
			if err := c.StoreLog(cacheEntry(i, 100)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for i := uint64(1); i <= 500; i++ {
		var l raft.Log
		if err := c.GetLog(i, &l); err == nil && l.Index != i {
			t.Fatalf("get %d read entry %d", i, l.Index)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(fmt.Errorf("store: %w", err))
	}
}
