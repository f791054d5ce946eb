//go:build unix

package main

import (
	"fmt"
	"time"
)

// diskCount is a reading of the data dir's disk flushes, taken before a
// figure so that its note can say what the figure cost the disk: every
// Raft entry is an fsync on every node, and the three nodes share one disk.
type diskCount struct {
	dir       string
	at        time.Time
	flushes   uint64
	ms        uint64
	unreadErr error
}

func startDiskCount(dir string) diskCount {
	flushes, ms, err := diskFlushes(dir)
	return diskCount{dir: dir, at: time.Now(), flushes: flushes, ms: ms, unreadErr: err}
}

// note says how many flushes the disk made per item since the reading,
// how many a second, and how long one took on average.
func (d diskCount) note(items int) string {
	if d.unreadErr != nil {
		return "disk flushes unknown: " + d.unreadErr.Error()
	}
	flushes, ms, err := diskFlushes(d.dir)
	if err != nil {
		return "disk flushes unknown: " + err.Error()
	}
	n := flushes - d.flushes
	if n == 0 {
		return "no disk flushes (the data dir's device does not count them, or it is memory)"
	}
	return fmt.Sprintf("disk %.1f flushes per job, %.0f/s, %.2f ms each", float64(n)/float64(max(items, 1)),
		float64(n)/time.Since(d.at).Seconds(), float64(ms-d.ms)/float64(n))
}
