// Package gctune keeps a long-running process's garbage collector between
// throughput and memory: the process's own GOGC while the live heap is
// small and, as it grows, a GOGC that keeps the heap's goal within a fixed
// headroom above the live heap.
//
// GOGC is a ratio: at 100 the heap may grow to twice what is live before
// the next collection, at 400 to five times. With a million queued jobs
// (~800 MB live) that is a goal of 1.6 GB at 100 and 4 GB at 400. The
// tuner reads the live heap after each collection and sets GOGC so that
// the goal stays under live + Headroom, never below MinPercent (below
// that the collector would run nearly all the time).
package gctune

import (
	"context"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Settings of a Tuner.
type Settings struct {
	// MaxPercent is the GOGC while the live heap is small.
	MaxPercent int
	// MinPercent is the lowest GOGC the tuner sets.
	MinPercent int
	// Headroom bounds how far the heap may grow above the live heap
	// before a collection, while MaxPercent would allow more.
	Headroom uint64
}

// Percent returns the GOGC for a live heap of live bytes.
func (s Settings) Percent(live uint64) int {
	if live == 0 {
		return s.MaxPercent
	}
	p := s.Headroom * 100 / live
	return int(max(uint64(s.MinPercent), min(uint64(s.MaxPercent), p)))
}

// pollInterval is how often the tuner looks for a finished collection:
// reading two runtime metrics costs well under a microsecond.
const pollInterval = 250 * time.Millisecond

// Run tunes GOGC after every collection until ctx ends, then leaves the
// last setting. It changes a process-wide setting: run one per process.
func Run(ctx context.Context, s Settings) {
	samples := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	var cycles uint64
	set := -1
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		metrics.Read(samples)
		if c := samples[0].Value.Uint64(); c != cycles {
			cycles = c
			if p := s.Percent(samples[1].Value.Uint64()); p != set {
				debug.SetGCPercent(p)
				set = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
