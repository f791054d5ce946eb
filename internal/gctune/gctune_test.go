package gctune

import (
	"context"
	"runtime"
	"runtime/debug"
	"testing"

	"time"

	"github.com/casare/casare/internal/testutil"
)

func TestPercentKeepsTheGoalWithinTheHeadroom(t *testing.T) {
	s := Settings{MaxPercent: 400, MinPercent: 25, Headroom: 256 << 20}
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 400},
		{32 << 20, 400},  // small heap: throughput
		{64 << 20, 400},  // exactly the headroom at 400
		{256 << 20, 100}, // goal 512 MiB
		{800 << 20, 32},  // goal ~1.05 GiB with a million queued jobs
		{4 << 30, 25},    // floored
	} {
		if got := s.Percent(c.live); got != c.want {
			t.Errorf("live %d MiB: GOGC %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// The tuner really sets GOGC after a collection.
func TestRunSetsGOGCAfterACollection(t *testing.T) {
	old := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(old) })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Run(ctx, Settings{MaxPercent: 333, MinPercent: 25, Headroom: 1 << 40}) }()
	t.Cleanup(func() { cancel(); <-done })
	testutil.WaitFor(t, 10*time.Second, "GOGC to be 333", func() bool {
		runtime.GC()
		// Reading the setting means setting one: 100, which Run never
		// sets here, so seeing 333 means Run set it.
		return debug.SetGCPercent(100) == 333
	})
}
