package consensus

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// timings measures where a write's time goes on this node: writing Raft
// entries to the log on disk (every node, leader and follower alike),
// committing an entry as leader (handed to Raft until applied here,
// which holds the leader's log write, a follower's and the round trip
// between them), and forwarding a write to the leader as follower. A
// write's latency is mostly these and the wait to join an entry; under
// load the log writes are what a cycle of the commit pipeline costs (the
// disk's fsync), which the operator of a slow disk needs to see.
// Histograms are never the default registry's: the API's registry
// collects them (Store.Collectors).
type timings struct {
	logWrite, commit, forward prometheus.Histogram
	// forwardWait is the leader's wait for busy followers' next
	// forwards (groupcommit_forwards.go).
	forwardWait prometheus.Histogram
}

// timingBuckets run from 100 µs to about 18 s, past a write's
// DefaultApplyTimeout, each √2 times the last.
var timingBuckets = prometheus.ExponentialBuckets(0.0001, 1.4142, 36)

func newTimings() *timings {
	h := func(name, help string) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Name: name, Help: help, Buckets: timingBuckets})
	}
	return &timings{
		logWrite: h("casare_raft_log_write_seconds",
			"Time to write a batch of Raft entries to this node's log on disk, its fsync included."),
		commit: h("casare_raft_commit_seconds",
			"Time, as leader, from handing a write to Raft until it is committed and applied here."),
		forward: h("casare_raft_forward_seconds",
			"Time, as follower, from forwarding a write to the leader until its answer (the try that got it)."),
		forwardWait: h("casare_raft_forward_wait_seconds",
			"Time, as leader, waiting after a submit entry for busy followers' next forwards before starting the next (at most 20 ms)."),
	}
}

// since observes the time since start in h.
func since(h prometheus.Histogram, start time.Time) {
	h.Observe(time.Since(start).Seconds())
}

// Collectors returns the store's own Prometheus collectors, for the
// API's registry.
func (s *Store) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.timings.logWrite, s.timings.commit, s.timings.forward, s.timings.forwardWait}
}
