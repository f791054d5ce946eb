package consensus

import (
	"cmp"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// cronParser accepts five fields, an optional leading seconds field and
// descriptors such as @every 10s and @daily.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// maxCronSteps bounds the fire times one search walks through. A leader
// searches every schedule at each wake-up under the state's read lock, where
// applies wait: 10,000 steps of robfig's Next take a few milliseconds,
// and a longer catch-up (a per-second schedule after hours without a
// leader) goes on from where the search stopped, in the next entry.
const maxCronSteps = 10_000

// ParseSchedule checks a cron expression and time zone for a new
// schedule and returns the schedule they make. Beyond the syntax it
// refuses what would run wild or never run: an @every interval under a
// second or not in whole seconds (robfig/cron silently makes those one
// second, or rounds them down), and an expression that matches no time in
// the next five years, such as 30 February (robfig/cron's own Next gives
// up after five years). Errors are CodeInvalid and name the problem.
func ParseSchedule(expr, timezone string) (cron.Schedule, *time.Location, error) {
	if err := checkEvery(expr); err != nil {
		return nil, nil, err
	}
	sched, loc, err := parseCron(expr, timezone)
	if err != nil {
		return nil, nil, err
	}
	if sched.Next(time.Now().In(loc)).IsZero() {
		return nil, nil, errorf(CodeInvalid, "cron %q never fires: no date matches it (30 or 31 February, 31 April …)", expr)
	}
	return sched, loc, nil
}

// checkEvery refuses @every intervals that robfig/cron would change
// without a word.
func checkEvery(expr string) error {
	rest, ok := strings.CutPrefix(strings.TrimSpace(expr), "@every ")
	if !ok {
		return nil
	}
	d, err := time.ParseDuration(strings.TrimSpace(rest))
	switch {
	case err != nil:
		return nil // the parser names the syntax error
	case d < time.Second:
		return errorf(CodeInvalid, "cron %q: an @every interval must be at least 1s", expr)
	case d%time.Second != 0:
		return errorf(CodeInvalid, "cron %q: an @every interval takes whole seconds (%s would run every %s)", expr, d, d.Truncate(time.Second))
	}
	return nil
}

// parseCron parses an expression and time zone without ParseSchedule's
// checks for new schedules, so that a stored schedule an older build
// accepted still parses on the leader; the search bounds keep it harmless.
func parseCron(expr, timezone string) (cron.Schedule, *time.Location, error) {
	loc, err := time.LoadLocation(cmp.Or(timezone, "UTC"))
	if err != nil {
		return nil, nil, errorf(CodeInvalid, "timezone %q: %v", timezone, err)
	}
	if strings.HasPrefix(strings.TrimSpace(expr), "TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") {
		return nil, nil, errorf(CodeInvalid, "cron %q: give the time zone in the timezone field, not in the expression", expr)
	}
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return nil, nil, errorf(CodeInvalid, "cron %q: %v", expr, err)
	}
	if _, fixedDelay := sched.(cron.ConstantDelaySchedule); fixedDelay {
		return sched, loc, nil // @every counts real time, not the clock on the wall
	}
	return wallClock{inner: sched, loc: loc}, loc, nil
}

// wallClock evaluates a cron expression on the local wall clock, so that
// daylight-saving changes do what cron users expect (as Vixie cron does):
// every wall-clock time fires at most once — in the repeated hour of a
// fall-back only its first occurrence fires — and a time that does not
// exist in a spring-forward gap fires at the same instant one hour later
// on the wall (02:30 → 03:30), instead of being skipped for the day.
type wallClock struct {
	inner cron.Schedule
	loc   *time.Location
}

func (w wallClock) Next(t time.Time) time.Time {
	wall := asUTC(t.In(w.loc))
	for range 8 { // a handful of DST transitions at most; bounded anyway
		next := w.inner.Next(wall)
		if next.IsZero() {
			return next
		}
		local := firstOccurrence(time.Date(next.Year(), next.Month(), next.Day(), next.Hour(), next.Minute(), next.Second(), 0, w.loc))
		if local.After(t) {
			return local
		}
		// t is in the second pass of a repeated hour: that wall-clock
		// time has fired already.
		wall = next
	}
	return time.Time{}
}

// firstOccurrence returns the earlier instant when t's wall-clock time
// occurs twice (time.Date may pick either).
func firstOccurrence(t time.Time) time.Time {
	for _, shift := range []time.Duration{time.Hour, 30 * time.Minute} {
		if earlier := t.Add(-shift); asUTC(earlier).Equal(asUTC(t)) {
			return earlier
		}
	}
	return t
}

// asUTC reads a local time's wall clock as if it were UTC, where no
// clock ever jumps.
func asUTC(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// dueFires builds the entry that handles sc's fire times in
// (LastFired, now], dropping those older than the catch-up window. It
// makes at most maxCronSteps steps and stops at a schedule that fires no
// more. run_all gets the oldest limit times; run_once and skip get the
// newest limit of those searched, and More tells the state machine that
// later missed times follow in another entry.
func dueFires(sc *Schedule, now time.Time, limit int, parse cronParseFunc) (FireCmd, error) {
	cmd := FireCmd{ScheduleID: sc.ID}
	sched, loc, err := parse(sc.Cron, sc.Timezone)
	if err != nil {
		return cmd, fmt.Errorf("schedule %s: %w", sc.ID, err)
	}
	from := sc.LastFired
	if window := time.Duration(sc.CatchupWindow); window > 0 && now.Sub(from) > window {
		from = now.Add(-window)
	}
	var out []time.Time
	t := sched.Next(from.In(loc))
	for steps := 0; !t.IsZero() && !t.After(now); steps++ {
		if steps == maxCronSteps || (len(out) == limit && sc.Misfire == MisfireRunAll) {
			cmd.More = true // t is due and not in this entry
			break
		}
		if len(out) == 2*limit {
			// run_once and skip decide about all missed times at once;
			// only the newest matter.
			out = append(out[:0], out[limit:]...)
		}
		out = append(out, t.UTC())
		t = sched.Next(t)
	}
	cmd.FireTimes = out[max(0, len(out)-limit):]
	return cmd, nil
}

type cronParseFunc func(expr, timezone string) (cron.Schedule, *time.Location, error)

// cronCache remembers parsed schedules for the leader, which evaluates
// every schedule at each fire time and at least once a second; loading a
// zone reads files.
type cronCache struct {
	mu     sync.Mutex
	parsed map[[2]string]parsedCron
}

type parsedCron struct {
	sched cron.Schedule
	loc   *time.Location
}

// parse parses like parseCron: a stored schedule is fired as stored.
func (c *cronCache) parse(expr, timezone string) (cron.Schedule, *time.Location, error) {
	key := [2]string{expr, timezone}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.parsed[key]; ok {
		return p.sched, p.loc, nil
	}
	sched, loc, err := parseCron(expr, timezone)
	if err != nil {
		return nil, nil, err
	}
	if c.parsed == nil || len(c.parsed) > 10000 {
		c.parsed = map[[2]string]parsedCron{}
	}
	c.parsed[key] = parsedCron{sched, loc}
	return sched, loc, nil
}
