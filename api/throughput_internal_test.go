package api

import (
	"math"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

func jobChange(at time.Time, from, to consensus.JobState) consensus.Change {
	return consensus.Change{Kind: consensus.ChangeJob, Time: at, From: from, To: to}
}

// The ring keeps 15 minutes: an interval is reused once the clock has
// gone round, and an entry older than what its slot holds is dropped.
func TestThroughputRingWrapsAndDropsOldEntries(t *testing.T) {
	var tp throughput
	t0 := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	tp.Applied(consensus.Applied{Changes: []consensus.Change{jobChange(t0, "", consensus.JobQueued), jobChange(t0.Add(time.Second), "", consensus.JobQueued)}})
	later := t0.Add(MaxThroughputWindow) // the same slot, one turn later
	tp.Applied(consensus.Applied{Changes: []consensus.Change{jobChange(later, "", consensus.JobQueued)}})
	tp.Applied(consensus.Applied{Changes: []consensus.Change{jobChange(t0, "", consensus.JobQueued)}}) // replayed from long ago

	pts := tp.series(later.Add(9*time.Second), MaxThroughputWindow)
	if len(pts) != throughputSlots {
		t.Fatalf("%d points, want %d", len(pts), throughputSlots)
	}
	if !pts[len(pts)-1].Start.Equal(later) {
		t.Errorf("the last interval starts at %s, want %s", pts[len(pts)-1].Start, later)
	}
	var sum float64
	for _, p := range pts[:len(pts)-1] {
		sum += p.Submitted
	}
	if sum != 0 || pts[len(pts)-1].Submitted != 1.0/9 {
		t.Errorf("earlier intervals hold %v jobs/s, the last %v; want 0 and one job over its 9 s", sum, pts[len(pts)-1].Submitted)
	}
	if old := tp.series(t0.Add(time.Second), time.Minute); old[len(old)-1].Submitted != 0 {
		t.Errorf("an interval the ring has reused still reads %v jobs/s", old[len(old)-1].Submitted)
	}
}

// Claim latency quantiles are read within 7 % of the true value.
func TestThroughputLatencyQuantiles(t *testing.T) {
	var tp throughput
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	var changes []consensus.Change
	for i := 1; i <= 100; i++ { // 10 ms … 1 s
		c := jobChange(at, consensus.JobQueued, consensus.JobRunning)
		c.EligibleAt = at.Add(-time.Duration(i) * 10 * time.Millisecond)
		changes = append(changes, c)
	}
	tp.Applied(consensus.Applied{Changes: changes})
	p := tp.series(at.Add(15*time.Second), 2*throughputInterval)[0] // a finished interval
	for name, c := range map[string]struct {
		got  *float64
		want float64
	}{"p50": {p.ClaimP50, 0.5}, "p95": {p.ClaimP95, 0.95}} {
		if c.got == nil || math.Abs(*c.got-c.want)/c.want > 0.075 {
			t.Errorf("%s = %v, want %v within 7.5 %%", name, c.got, c.want)
		}
	}
	if p.Claimed != 10 {
		t.Errorf("claimed %v/s, want 100 claims over 10 s", p.Claimed)
	}
	for _, s := range []float64{-1, 0, 1e-9, 1e9} {
		if b := latencyBucket(s); b < 0 || b >= latencyBuckets {
			t.Errorf("latency %v s falls in bucket %d", s, b)
		}
	}
}

// FuzzThroughputWindow: any ?window= is a window the ring can answer, or
// a 400 naming the field; never a panic or an empty series.
func FuzzThroughputWindow(f *testing.F) {
	for _, s := range []string{"", "15m", "10s", "9s", "1h", "-5m", "1.5m", "soon", "0", "899999999999ns"} {
		f.Add(s)
	}
	var tp throughput
	f.Fuzz(func(t *testing.T, raw string) {
		w, err := parseWindow(raw)
		if err != nil {
			requireAPIError(t, err)
			return
		}
		n := len(tp.series(time.Now(), w))
		if n < 1 || n > throughputSlots {
			t.Fatalf("window %q gives %d points", raw, n)
		}
	})
}
