package consensus

import (
	"context"
	"slices"
	"strings"
	"time"
)

// cronTick is how often the leader looks for due fire times; it bounds
// how late an on-time fire is queued.
const cronTick = 100 * time.Millisecond

// maxFiresPerEntry bounds one catch-up entry; the rest follow next tick.
const maxFiresPerEntry = 500

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
	return apply[Schedule](ctx, s, cmdPutSchedule, PutScheduleCmd{Schedule: sc})
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
