package consensus

import (
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// TestCronThatCannotFireIsRefused: a cron expression that matches no
// time at all (30 or 31 February) or an @every interval under a second
// is refused with a message that says so, not accepted to hang or spin.
func TestCronThatCannotFireIsRefused(t *testing.T) {
	for _, tc := range []struct{ cron, want string }{
		{"0 0 30 2 *", "never fires"},
		{"* * 31 2 *", "never fires"},
		{"0 0 0 31 4 *", "never fires"},
		{"@every 0s", "at least 1s"},
		{"@every -5s", "at least 1s"},
		{"@every 999ms", "at least 1s"},
		{"@every 1500ms", "whole seconds"},
	} {
		_, _, err := ParseSchedule(tc.cron, "Europe/Berlin")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.cron) {
			t.Errorf("ParseSchedule(%q) = %v, want an error naming the expression and %q", tc.cron, err, tc.want)
		}
	}
	for _, ok := range []string{"0 0 29 2 *", "@every 1s", "@every 90s", "59 23 31 12 *"} {
		if _, _, err := ParseSchedule(ok, "UTC"); err != nil {
			t.Errorf("ParseSchedule(%q) = %v, want it accepted", ok, err)
		}
	}
}

// dueWithin runs dueFireTimes and fails the test, instead of hanging it,
// when the computation does not end within a generous deadline.
func dueWithin(t *testing.T, sc *Schedule, now time.Time) []time.Time {
	t.Helper()
	type result struct {
		times []time.Time
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var cache cronCache
		cmd, err := dueFires(sc, now, maxFiresPerEntry, cache.parse)
		done <- result{cmd.FireTimes, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		return r.times
	case <-time.After(10 * time.Second):
		t.Fatalf("dueFireTimes(%q, %s) has not returned after 10s", sc.Cron, sc.Misfire)
		return nil
	}
}

// TestStoredScheduleThatCannotFireDoesNotHangTheLeader: a schedule stored
// by an older build that never fires gives no fire times, at once.
func TestStoredScheduleThatCannotFireDoesNotHangTheLeader(t *testing.T) {
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	for _, misfire := range []string{MisfireRunAll, MisfireRunOnce, MisfireSkip} {
		for _, expr := range []string{"0 0 30 2 *", "* * 31 2 *"} {
			sc := &Schedule{ID: "s", Cron: expr, Timezone: "UTC", Misfire: misfire, Enabled: true,
				CatchupWindow: Duration(DefaultCatchupWindow), LastFired: now.Add(-time.Hour)}
			if times := dueWithin(t, sc, now); len(times) != 0 {
				t.Errorf("%q %s: %d fire times, the first %v", expr, misfire, len(times), times[0])
			}
		}
	}
}

// countingSchedule counts the Next calls a search makes.
type countingSchedule struct {
	inner cron.Schedule
	steps *int
}

func (c countingSchedule) Next(t time.Time) time.Time { *c.steps++; return c.inner.Next(t) }

// TestCatchupSearchIsBounded: after 40 days without a leader, a schedule
// firing every second with a year's catch-up window is searched in
// bounded steps per leader tick, not 3.5 million at once under the state
// lock; run_once still makes one job for all the missed fire times,
// across the entries the search is split into.
func TestCatchupSearchIsBounded(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdPutSchedule, PutScheduleCmd{Schedule: Schedule{
		ID: "s1", WorkflowID: "w1", Cron: "* * * * * *", Timezone: "UTC", Enabled: true,
		Misfire: MisfireRunOnce, Overlap: OverlapAllow, CatchupWindow: Duration(365 * 24 * time.Hour),
	}})
	h.advance(40 * 24 * time.Hour)
	var cache cronCache
	steps := 0
	parse := func(expr, tz string) (cron.Schedule, *time.Location, error) {
		sched, loc, err := cache.parse(expr, tz)
		return countingSchedule{sched, &steps}, loc, err
	}
	jobs, entries := 0, 0
	for start := time.Now(); ; entries++ {
		steps = 0
		cmd, err := dueFires(h.f.state.schedules["s1"], h.now, maxFiresPerEntry, parse)
		if err != nil {
			t.Fatal(err)
		}
		if steps > maxCronSteps+1 {
			t.Fatalf("one search made %d steps, want at most %d", steps, maxCronSteps+1)
		}
		if len(cmd.FireTimes) == 0 {
			break
		}
		if len(cmd.FireTimes) > maxFiresPerEntry {
			t.Fatalf("%d fire times in one entry", len(cmd.FireTimes))
		}
		for _, f := range h.mustApply(cmdFireSchedule, cmd).([]Fire) {
			if f.JobID != "" && h.now.Sub(f.FireTime) > MisfireGrace {
				jobs++ // on-time fire times run in any case
			}
		}
		if time.Since(start) > 2*time.Minute {
			t.Fatalf("catching up has not ended after %d entries", entries)
		}
	}
	if jobs != 1 {
		t.Fatalf("run_once made %d jobs for 40 days of missed fire times in %d entries, want 1", jobs, entries)
	}
	t.Logf("40 days of missed per-second fire times caught up in %d entries", entries)
}
