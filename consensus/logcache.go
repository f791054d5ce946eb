package consensus

import (
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
)

// logCache keeps Raft's newest entries in memory, as raft.LogCache does,
// so that replication to followers and reads of recent entries skip the
// disk. raft.LogCache bounds the number of entries only, and a merged
// submit entry can hold a thousand jobs: its 1024 entries held some
// 130 MB with a million jobs queued. This one also bounds their bytes,
// evicting the oldest entries first.
// The cache's bounds: raft.LogCache's 1024 entries for a cluster of small
// entries, and 16 MiB, a hundred merged submits of a thousand jobs, which
// is far more than followers lag behind while they keep up.
const (
	logCacheEntries = 1024
	logCacheBytes   = 16 << 20
)

type logCache struct {
	raft.LogStore
	maxEntries int
	maxBytes   int
	// written observes each StoreLogs on the disk.
	written prometheus.Histogram

	mu    sync.RWMutex
	ring  []*raft.Log // consecutive indexes, oldest at ring[head]
	head  int
	count int
	bytes int
}

func newLogCache(store raft.LogStore, maxEntries, maxBytes int, written prometheus.Histogram) (*logCache, error) {
	if maxEntries <= 0 || maxBytes <= 0 {
		return nil, fmt.Errorf("log cache bounds must be positive, not %d entries and %d bytes", maxEntries, maxBytes)
	}
	return &logCache{LogStore: store, maxEntries: maxEntries, maxBytes: maxBytes, written: written, ring: make([]*raft.Log, maxEntries)}, nil
}

// IsMonotonic passes on whether the store below is monotonic.
func (c *logCache) IsMonotonic() bool {
	m, ok := c.LogStore.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

// GetLog reads entry idx from the cache, or from the store.
func (c *logCache) GetLog(idx uint64, log *raft.Log) error {
	c.mu.RLock()
	cached := c.at(idx)
	c.mu.RUnlock()
	if cached != nil {
		*log = *cached
		return nil
	}
	return c.LogStore.GetLog(idx, log)
}

// at returns the cached entry idx, or nil.
func (c *logCache) at(idx uint64) *raft.Log {
	if c.count == 0 {
		return nil
	}
	first := c.ring[c.head].Index
	if idx < first || idx-first >= uint64(c.count) {
		return nil
	}
	l := c.ring[(c.head+int(idx-first))%len(c.ring)]
	if l.Index != idx {
		return nil
	}
	return l
}

// StoreLog stores one entry.
func (c *logCache) StoreLog(log *raft.Log) error {
	return c.StoreLogs([]*raft.Log{log})
}

// StoreLogs stores entries in the store, then caches them.
func (c *logCache) StoreLogs(logs []*raft.Log) error {
	start := time.Now()
	if err := c.LogStore.StoreLogs(logs); err != nil {
		return fmt.Errorf("store raft log entries: %w", err)
	}
	since(c.written, start)
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range logs {
		c.add(l)
	}
	return nil
}

func (c *logCache) add(l *raft.Log) {
	if c.count > 0 && l.Index != c.ring[(c.head+c.count-1)%len(c.ring)].Index+1 {
		c.clear() // not the next entry: the cache holds consecutive ones only
	}
	if c.count == len(c.ring) {
		c.dropOldest()
	}
	c.ring[(c.head+c.count)%len(c.ring)] = l
	c.count++
	c.bytes += entrySize(l)
	for c.bytes > c.maxBytes && c.count > 1 {
		c.dropOldest()
	}
}

func (c *logCache) dropOldest() {
	c.bytes -= entrySize(c.ring[c.head])
	c.ring[c.head] = nil
	c.head = (c.head + 1) % len(c.ring)
	c.count--
}

func (c *logCache) clear() {
	clear(c.ring)
	c.head, c.count, c.bytes = 0, 0, 0
}

func entrySize(l *raft.Log) int { return len(l.Data) + len(l.Extensions) }

// DeleteRange empties the cache, then deletes the entries from the store.
func (c *logCache) DeleteRange(lo, hi uint64) error {
	c.mu.Lock()
	c.clear()
	c.mu.Unlock()
	return c.LogStore.DeleteRange(lo, hi)
}
