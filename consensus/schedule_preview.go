package consensus

import "time"

// PreviewFireTimes returns the first n fire times of a cron expression
// after `after`, in its time zone, computed the way the leader's
// scheduler computes them (ParseSchedule, then Next from each time), so
// that a page previewing a schedule and the scheduler never disagree.
// An expression that never fires (30 February) is an invalid error; one
// that fires fewer than n times within the cron library's search window
// returns those it has.
func PreviewFireTimes(expr, timezone string, after time.Time, n int) ([]time.Time, error) {
	sched, loc, err := ParseSchedule(expr, timezone)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for t := sched.Next(after.In(loc)); !t.IsZero() && len(out) < n; t = sched.Next(t) {
		out = append(out, t.In(loc))
	}
	if len(out) == 0 {
		return nil, errorf(CodeInvalid, "cron %q never fires: no time matches it in the next five years", expr)
	}
	return out, nil
}
