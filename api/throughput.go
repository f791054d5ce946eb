package api

import (
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// GET /api/v1/stats/throughput answers the overview's charts: jobs
// submitted, claimed and finished per second and the claim latency's
// p50 and p95, per 10 s interval over the last 15 minutes at most. The
// figures come from a ring of counters that this replica fills as it
// applies entries, bucketed by the leader's time stamp on each entry, so
// every server answers alike and a page opened late still sees the last
// 15 minutes. A node counts what it applied since it started (a restart
// replays its log from the last snapshot; a snapshot restore leaves a
// gap).

const (
	// throughputInterval is one point of the series.
	throughputInterval = 10 * time.Second
	// throughputSlots covers the longest window: 15 minutes.
	throughputSlots = 90
	// MaxThroughputWindow is the longest window a client may ask for.
	MaxThroughputWindow = throughputSlots * throughputInterval

	// Claim latencies are counted in logarithmic buckets: bucket 0 holds
	// everything under latencyBase, bucket i ≥ 1 holds [base·g^(i-1),
	// base·g^i). With g = 1.15 a quantile read at a bucket's geometric
	// middle is within 7 % of the true value, and 120 buckets reach past
	// an hour.
	latencyBase    = 0.0005 // seconds
	latencyGrowth  = 1.15
	latencyBuckets = 120
)

// throughputSlot is one interval's counters.
type throughputSlot struct {
	interval                                         int64 // unix seconds / interval; 0 while unused
	submitted, claimed, succeeded, failed, cancelled uint32
	claims                                           uint32
	latency                                          [latencyBuckets]uint32
}

// throughput is the ring. It is a consensus.Observer: Applied runs on
// the apply goroutine and holds the lock only to bump counters.
type throughput struct {
	mu    sync.Mutex
	slots [throughputSlots]throughputSlot
}

var _ consensus.Observer = (*throughput)(nil)

// Applied counts the job changes of one entry.
func (t *throughput) Applied(a consensus.Applied) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range a.Changes {
		if c.Kind != consensus.ChangeJob {
			continue
		}
		s := t.slot(c.Time)
		if s == nil {
			continue
		}
		switch {
		case c.From == "":
			s.submitted++
		case c.To == consensus.JobRunning:
			s.claimed++
			if !c.EligibleAt.IsZero() {
				s.claims++
				s.latency[latencyBucket(c.Time.Sub(c.EligibleAt).Seconds())]++
			}
		case c.To == consensus.JobSucceeded:
			s.succeeded++
		case c.To == consensus.JobFailed || c.To == consensus.JobDead:
			s.failed++
		case c.To == consensus.JobCancelled:
			s.cancelled++
		}
	}
}

// Restored changes nothing: the ring counts what this node applied.
func (t *throughput) Restored(uint64, consensus.JobCounts) {}

// slot returns the slot of the interval holding at, emptied when it held
// an older interval, or nil when the ring has moved past it (an entry
// replayed from long ago).
func (t *throughput) slot(at time.Time) *throughputSlot {
	iv := intervalOf(at)
	s := &t.slots[iv%throughputSlots]
	switch {
	case s.interval > iv:
		return nil
	case s.interval < iv:
		*s = throughputSlot{interval: iv}
	}
	return s
}

func intervalOf(at time.Time) int64 { return at.Unix() / int64(throughputInterval/time.Second) }

// series reads the window ending with the interval that holds now.
func (t *throughput) series(now time.Time, window time.Duration) []ThroughputInterval {
	n := int64((window + throughputInterval - 1) / throughputInterval)
	last := intervalOf(now)
	step := int64(throughputInterval / time.Second)
	out := make([]ThroughputInterval, 0, n)
	t.mu.Lock()
	defer t.mu.Unlock()
	for iv := last - n + 1; iv <= last; iv++ {
		start := time.Unix(iv*step, 0).UTC()
		p := ThroughputInterval{Start: start}
		s := &t.slots[((iv%throughputSlots)+throughputSlots)%throughputSlots]
		if s.interval == iv {
			// The current interval is divided by the time it has run, so
			// the newest point is not low only for being young.
			secs := throughputInterval.Seconds()
			if iv == last {
				secs = max(1, now.Sub(start).Seconds())
			}
			p.Submitted = float64(s.submitted) / secs
			p.Claimed = float64(s.claimed) / secs
			p.Succeeded = float64(s.succeeded) / secs
			p.Failed = float64(s.failed) / secs
			p.Cancelled = float64(s.cancelled) / secs
			p.ClaimP50 = s.quantile(0.50)
			p.ClaimP95 = s.quantile(0.95)
		}
		out = append(out, p)
	}
	return out
}

// quantile reads the q-quantile of the slot's claim latencies at the
// geometric middle of its bucket; nil without claims.
func (s *throughputSlot) quantile(q float64) *float64 {
	if s.claims == 0 {
		return nil
	}
	rank := uint32(math.Ceil(q * float64(s.claims)))
	var seen uint32
	for i, n := range s.latency {
		seen += n
		if seen >= rank {
			v := latencyValue(i)
			return &v
		}
	}
	return nil
}

func latencyBucket(seconds float64) int {
	if seconds < latencyBase {
		return 0
	}
	i := 1 + int(math.Log(seconds/latencyBase)/math.Log(latencyGrowth))
	return min(i, latencyBuckets-1)
}

// latencyValue is the value a bucket stands for: its geometric middle,
// and half the base for bucket 0.
func latencyValue(i int) float64 {
	if i == 0 {
		return latencyBase / 2
	}
	lo := latencyBase * math.Pow(latencyGrowth, float64(i-1))
	return lo * math.Sqrt(latencyGrowth)
}

func (s clusterAPI) throughputStats(c *gin.Context) {
	if s.events == nil {
		s.abort(c, newError(CodeUnavailable, "node %s keeps no throughput figures: it holds no replica", s.cfg.NodeName))
		return
	}
	window, err := parseWindow(c.Query("window"))
	if err != nil {
		s.abort(c, err)
		return
	}
	now := time.Now()
	points := s.events.throughput.series(now, window)
	step := int(throughputInterval / time.Second)
	c.JSON(http.StatusOK, Throughput{
		Node: s.cfg.NodeName, Now: now.UTC(),
		WindowSeconds: len(points) * step, IntervalSeconds: step, Points: points,
	})
}

// parseWindow reads ?window=, a duration from one interval to
// MaxThroughputWindow; empty means the longest.
func parseWindow(raw string) (time.Duration, error) {
	if raw == "" {
		return MaxThroughputWindow, nil
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d < throughputInterval || d > MaxThroughputWindow {
		return 0, invalidField("window", "must be a duration from %s to %s, such as 5m or 15m, not %q",
			throughputInterval, MaxThroughputWindow, raw)
	}
	return d, nil
}
