package consensus

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// FuzzParseSchedule feeds arbitrary expressions and time zones to the
// parser a new schedule goes through: whatever arrives, it returns, and
// what it accepts fires, later than the time asked about.
func FuzzParseSchedule(f *testing.F) {
	for _, seed := range []string{
		"0 0 30 2 *", "* * 31 2 *", "0 0 0 31 4 *", "@every 0s", "@every -5s", "@every 1500ms", "@every 1s",
		"* * * * *", "*/5 * * * * *", "30 2 * * *", "0 0 29 2 *", "@daily", "@yearly", "TZ=UTC * * * * *",
		"61 * * * *", "* * *", "", "@every 9223372036s", "0-59/0 * * * *", "1-0 * * * *", "* * * * 7",
	} {
		f.Add(seed, "Europe/Berlin", int64(1_795_000_000))
	}
	f.Add("0 30 2 * * *", "America/New_York", int64(1_772_953_200))
	f.Fuzz(func(t *testing.T, expr, tz string, unix int64) {
		sched, loc, err := ParseSchedule(expr, tz)
		if err != nil {
			return
		}
		at := fuzzTime(unix).In(loc)
		if next := sched.Next(at); !next.IsZero() && !next.After(at) {
			t.Fatalf("%q in %s: Next(%s) = %s, not after it", expr, tz, at, next)
		}
	})
}

// FuzzDueFires feeds arbitrary schedules, last fire times, catch-up
// windows and clocks to the leader's search for due fire times: it ends
// within its step bound and returns at most limit fire times, ascending,
// inside (last fired, now].
func FuzzDueFires(f *testing.F) {
	for _, expr := range []string{"0 0 30 2 *", "* * 31 2 *", "@every 0s", "@every -5s", "* * * * * *", "@every 1s", "30 2 * * *", "0 0 29 2 *"} {
		for _, misfire := range []string{MisfireRunAll, MisfireRunOnce, MisfireSkip} {
			f.Add(expr, "Europe/Berlin", misfire, int64(1_795_000_000), int64(40*24*3600), int64(365*24*3600))
		}
	}
	f.Fuzz(func(t *testing.T, expr, tz, misfire string, unix, outage, window int64) {
		now := fuzzTime(unix)
		sc := &Schedule{ID: "s", Cron: expr, Timezone: tz, Misfire: misfire, Enabled: true,
			LastFired: now.Add(-fuzzSpan(outage)), CatchupWindow: Duration(fuzzSpan(window))}
		var cache cronCache
		steps := 0
		parse := func(expr, tz string) (cron.Schedule, *time.Location, error) {
			sched, loc, err := cache.parse(expr, tz)
			return countingSchedule{sched, &steps}, loc, err
		}
		const limit = 50
		cmd, err := dueFires(sc, now, limit, parse)
		if err != nil {
			return
		}
		if steps > maxCronSteps+1 || len(cmd.FireTimes) > limit {
			t.Fatalf("%q: %d steps, %d fire times", expr, steps, len(cmd.FireTimes))
		}
		prev := sc.LastFired
		for _, ft := range cmd.FireTimes {
			if !ft.After(prev) || ft.After(now) {
				t.Fatalf("%q from %s to %s: fire time %s after %s", expr, sc.LastFired, now, ft, prev)
			}
			prev = ft
		}
	})
}

// fuzzTime maps any number to an instant between 1970 and about 2500,
// where calendars and zone files mean something.
func fuzzTime(unix int64) time.Time {
	const span = 16_700_000_000 // seconds from 1970 to about 2500
	return time.Unix(((unix%span)+span)%span, 0).UTC()
}

// fuzzSpan maps any number to a duration between zero and two years.
func fuzzSpan(n int64) time.Duration {
	const span = 2 * 365 * 24 * 3600
	return time.Duration(((n%span)+span)%span) * time.Second
}
