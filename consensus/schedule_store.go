package consensus

import (
	"context"
	"slices"
	"strings"
	"time"
)

// cronRecheck is the longest the leader's cron timer sleeps. The timer is
// armed for the next fire time on the monotonic clock, while cron times
// are wall-clock times: a clock stepped by NTP would otherwise be noticed
// only at the old instant. A look per second costs a scan of the
// schedules, nothing in the log.
const cronRecheck = time.Second

// cronRetry is the wait before looking again when a schedule is still due
// after a fire attempt: the apply failed (leadership moving, a slow disk)
// or a long catch-up continues in another entry. Short, so a catch-up
// goes on at once, yet not a busy loop while the apply keeps failing.
const cronRetry = 100 * time.Millisecond

// maxFiresPerEntry bounds one catch-up entry; the rest follow at once.
const maxFiresPerEntry = 500

// runCron fires schedules on a timer armed for the next fire time of any
// enabled schedule, re-armed when the timetable changes (a schedule
// created, enabled, disabled or deleted, a snapshot restored) and when
// leadership starts (runCron starts with the duties). Fire times are
// handled as before, one entry per schedule from the replicated
// LastFired, so a fire time still makes exactly one job.
func (s *Store) runCron(ctx context.Context) {
	t := time.NewTimer(0) // a new leader first catches up what is due
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.fsm.schedulesChanged:
		case <-t.C:
		}
		now := time.Now()
		s.fireSchedules(ctx, now)
		t.Reset(s.cronWait(time.Now()))
	}
}

// cronWait is how long the cron timer sleeps from now: until the earliest
// next fire time of an enabled schedule, at most cronRecheck, and
// cronRetry when one is due already (its fire did not go through).
func (s *Store) cronWait(now time.Time) time.Duration {
	next := s.nextFireTime()
	switch {
	case next.IsZero():
		return cronRecheck
	case !next.After(now):
		return cronRetry
	}
	return min(next.Sub(now), cronRecheck)
}

// nextFireTime returns the earliest fire time after its LastFired of any
// enabled schedule, or the zero time when none will fire. One step of the
// cron search per schedule: a catch-up longer than that is due already.
func (s *Store) nextFireTime() time.Time {
	var next time.Time
	s.fsm.read(func(st *state) {
		for _, sc := range st.schedules {
			if !sc.Enabled {
				continue
			}
			sched, loc, err := s.crons.parse(sc.Cron, sc.Timezone)
			if err != nil {
				continue // fireSchedules logs it
			}
			t := sched.Next(sc.LastFired.In(loc))
			if !t.IsZero() && (next.IsZero() || t.Before(next)) {
				next = t
			}
		}
	})
	return next
}

// fireSchedules queues the jobs of every due fire time, one entry per
// schedule. It works only from the replicated LastFired, so a new leader
// catches up exactly where the old one stopped.
func (s *Store) fireSchedules(ctx context.Context, now time.Time) {
	var due []FireCmd
	s.fsm.read(func(st *state) {
		for _, sc := range st.schedules {
			if !sc.Enabled {
				continue
			}
			cmd, err := dueFires(sc, now, maxFiresPerEntry, s.crons.parse)
			if err != nil {
				s.log.Error("schedule cannot be fired", "schedule", sc.ID, "err", err)
				continue
			}
			if len(cmd.FireTimes) > 0 {
				due = append(due, cmd)
			}
		}
	})
	for _, cmd := range due {
		fires, err := apply[[]Fire](ctx, s, cmdFireSchedule, cmd)
		if err != nil {
			s.log.Warn("fire schedule", "schedule", cmd.ScheduleID, "err", err)
			continue
		}
		for _, f := range fires {
			s.log.Debug("schedule fired", "schedule", cmd.ScheduleID, "fire_time", f.FireTime, "job", f.JobID, "skipped", f.Skipped)
		}
	}
}

// CreateSchedule stores a schedule. Check cron and time zone with
// ParseSchedule first.
func (s *Store) CreateSchedule(ctx context.Context, sc Schedule) (Schedule, error) {
	if _, _, err := ParseSchedule(sc.Cron, sc.Timezone); err != nil {
		return Schedule{}, err
	}
	t := sc.Template
	return withSealedParams(ctx, s, func() (Schedule, error) {
		spec := []JobSpec{{WorkflowID: sc.WorkflowID, Params: t.Params}}
		specs, err := s.sealSpecs(spec, s.specSecretVariables(spec))
		if err != nil {
			return Schedule{}, err
		}
		sc.Template.Params, sc.Template.SealedParams = specs[0].Params, specs[0].SealedParams
		return apply[Schedule](ctx, s, cmdPutSchedule, PutScheduleCmd{Schedule: sc})
	})
}

// EnableSchedule enables or disables a schedule.
func (s *Store) EnableSchedule(ctx context.Context, id string, enabled bool) (Schedule, error) {
	return apply[Schedule](ctx, s, cmdEnableSchedule, EnableScheduleCmd{ID: id, Enabled: enabled})
}

// DeleteSchedule deletes a schedule.
func (s *Store) DeleteSchedule(ctx context.Context, id string) error {
	_, err := apply[struct{}](ctx, s, cmdDeleteSchedule, DeleteScheduleCmd{ID: id, RequestID: newRequestID()})
	return err
}

// TriggerSchedule queues one job of the schedule now, under jobID.
func (s *Store) TriggerSchedule(ctx context.Context, id, jobID string) (Fire, error) {
	fires, err := apply[[]Fire](ctx, s, cmdFireSchedule, FireCmd{ScheduleID: id, Manual: true, JobID: jobID})
	if err != nil {
		return Fire{}, err
	}
	return fires[0], nil
}

// Schedule returns one schedule.
func (s *Store) Schedule(id string) (sc Schedule, found bool, index uint64) {
	index = s.fsm.read(func(st *state) {
		if v := st.schedules[id]; v != nil {
			sc, found = *cloneSchedule(v), true
		}
	})
	return sc, found, index
}

// Schedules lists schedules, of one workflow when workflowID is set.
func (s *Store) Schedules(workflowID string) (out []Schedule, index uint64) {
	index = s.fsm.read(func(st *state) {
		for _, sc := range st.schedules {
			if workflowID == "" || sc.WorkflowID == workflowID {
				out = append(out, *cloneSchedule(sc))
			}
		}
	})
	slices.SortFunc(out, func(a, b Schedule) int { return strings.Compare(a.ID, b.ID) })
	return out, index
}
