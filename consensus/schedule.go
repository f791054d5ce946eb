package consensus

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/json"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Misfire policies say what a schedule does with fire times that passed
// while no leader could fire them.
const (
	MisfireRunAll  = "run_all"  // one job per missed fire time
	MisfireRunOnce = "run_once" // one catch-up job for all of them
	MisfireSkip    = "skip"     // no job for missed fire times
)

// Overlap policies say whether a fire may start a job while the previous
// one from the same schedule is still queued or running.
const (
	OverlapAllow  = "allow"
	OverlapForbid = "forbid"
)

// Schedule defaults.
const (
	DefaultCatchupWindow = time.Hour
	// MisfireGrace is how late a fire time may be handled and still count
	// as on time rather than missed.
	MisfireGrace = 5 * time.Second
	// scheduleHistory is how many fire records a schedule keeps.
	scheduleHistory = 50
)

// JobTemplate is what a schedule's jobs look like.
type JobTemplate struct {
	Priority      int             `json:"priority"`
	ExecutionMode string          `json:"execution_mode"`
	Params        json.RawMessage `json:"params,omitempty"`
	// SealedParams are the workflow's secret_variables among Params, which
	// shows them as "***" (vault_params.go).
	SealedParams *SealedParams `json:"sealed_params,omitempty"`
	RobotTags    []string      `json:"robot_tags,omitempty"`
	MaxAttempts  int           `json:"max_attempts,omitempty"`
}

// Schedule fires a workflow on a cron expression.
type Schedule struct {
	ID            string      `json:"id"`
	WorkflowID    string      `json:"workflow_id"`
	Cron          string      `json:"cron"`
	Timezone      string      `json:"timezone"`
	Enabled       bool        `json:"enabled"`
	Misfire       string      `json:"misfire"`
	CatchupWindow Duration    `json:"catchup_window"`
	Overlap       string      `json:"overlap"`
	Template      JobTemplate `json:"template"`
	// LastFired is the latest fire time handled (by a job or a recorded
	// skip). A new leader continues from it, never from "now".
	LastFired time.Time `json:"last_fired"`
	History   []Fire    `json:"history,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Fire records what one fire time did.
type Fire struct {
	FireTime time.Time `json:"fire_time"`
	JobID    string    `json:"job_id,omitempty"`
	// Skipped says why no job was made: "overlap", "misfire",
	// "coalesced" or SkippedSecretParams.
	Skipped  string    `json:"skipped,omitempty"`
	QueuedAt time.Time `json:"queued_at"`
	Manual   bool      `json:"manual,omitempty"`
}

// NextRun returns the first fire time of s after t, or the zero time
// when it fires no more (a schedule stored by a build that did not refuse
// such expressions).
func (s *Schedule) NextRun(after time.Time) (time.Time, error) {
	sched, loc, err := parseCron(s.Cron, s.Timezone)
	if err != nil {
		return time.Time{}, err
	}
	return sched.Next(after.In(loc)).UTC(), nil
}

// FireJobID is the id of the job a schedule makes for a fire time. Being
// derived from the pair, a fire time can make only one job, whoever fires it.
func FireJobID(scheduleID string, fireTime time.Time) string {
	return uuid.NewHash(sha256.New(), uuid.NameSpaceOID, []byte(scheduleID+"@"+fireTime.UTC().Format(time.RFC3339Nano)), 5).String()
}

// PutScheduleCmd creates a schedule. The API has already checked cron and
// time zone with ParseSchedule (that reads zone files, which Apply must not).
type PutScheduleCmd struct {
	Schedule Schedule `json:"schedule"`
}

func (s scheduleApply) putSchedule(c applyContext, cmd *PutScheduleCmd) (Schedule, error) {
	sc := cmd.Schedule
	if existing := s.schedules[sc.ID]; existing != nil {
		return *cloneSchedule(existing), nil // a retried create
	}
	if sc.ID == "" {
		return Schedule{}, errorf(CodeInvalid, "schedule id is empty")
	}
	if s.workflows[sc.WorkflowID] == nil {
		return Schedule{}, errorf(CodeNotFound, "workflow %s not found", sc.WorkflowID)
	}
	sc.Misfire = cmp.Or(sc.Misfire, MisfireRunAll)
	sc.Overlap = cmp.Or(sc.Overlap, OverlapAllow)
	sc.Template.ExecutionMode = cmp.Or(sc.Template.ExecutionMode, ModeAny)
	if sc.CatchupWindow == 0 {
		sc.CatchupWindow = Duration(DefaultCatchupWindow)
	}
	if err := checkSchedule(sc); err != nil {
		return Schedule{}, err
	}
	// A secret variable in clear is refused, as on submit: the server
	// seals it and retries (withSealedParams).
	t := sc.Template
	if err := s.checkSpecParams(&JobSpec{Params: t.Params, SealedParams: t.SealedParams}, s.workflows[sc.WorkflowID].Latest().SecretVariables); err != nil {
		return Schedule{}, err
	}
	sc.LastFired, sc.CreatedAt, sc.UpdatedAt, sc.History = c.now, c.now, c.now, nil
	s.schedules[sc.ID] = &sc
	return *cloneSchedule(&sc), nil
}

func checkSchedule(sc Schedule) error {
	switch {
	case sc.Cron == "":
		return errorf(CodeInvalid, "cron is empty")
	case sc.Misfire != MisfireRunAll && sc.Misfire != MisfireRunOnce && sc.Misfire != MisfireSkip:
		return errorf(CodeInvalid, "misfire %q is not run_all, run_once or skip", sc.Misfire)
	case sc.Overlap != OverlapAllow && sc.Overlap != OverlapForbid:
		return errorf(CodeInvalid, "overlap %q is not allow or forbid", sc.Overlap)
	case sc.CatchupWindow < 0:
		return errorf(CodeInvalid, "catchup_window is negative")
	}
	return checkSpecFields(&JobSpec{ID: "-", Priority: sc.Template.Priority, ExecutionMode: sc.Template.ExecutionMode, MaxAttempts: sc.Template.MaxAttempts})
}

func cloneSchedule(sc *Schedule) *Schedule {
	c := *sc
	c.History = slices.Clone(sc.History)
	c.Template.RobotTags = slices.Clone(sc.Template.RobotTags)
	return &c
}

// EnableScheduleCmd enables or disables a schedule. Enabling starts from
// the enabling time: a disabled schedule owes no fires.
type EnableScheduleCmd struct {
	ID      string `json:"id"`
	Enabled bool   `json:"enabled"`
}

func (s scheduleApply) enableSchedule(c applyContext, cmd *EnableScheduleCmd) (Schedule, error) {
	sc := s.schedules[cmd.ID]
	if sc == nil {
		return Schedule{}, errorf(CodeNotFound, "schedule %s not found", cmd.ID)
	}
	if cmd.Enabled && !sc.Enabled {
		sc.LastFired = c.now
	}
	sc.Enabled, sc.UpdatedAt = cmd.Enabled, c.now
	return *cloneSchedule(sc), nil
}

// DeleteScheduleCmd deletes a schedule; jobs it made stay.
type DeleteScheduleCmd struct {
	ID string `json:"id"`
	// RequestID tells a retry of this delete from a new one.
	RequestID string `json:"request_id,omitempty"`
}

func (s scheduleApply) deleteSchedule(c applyContext, cmd *DeleteScheduleCmd) (struct{}, error) {
	if s.schedules[cmd.ID] == nil {
		if s.deletedBy("schedule/"+cmd.ID, cmd.RequestID) {
			return struct{}{}, nil
		}
		return struct{}{}, errorf(CodeNotFound, "schedule %s not found", cmd.ID)
	}
	delete(s.schedules, cmd.ID)
	s.recordDeletion(c, "schedule/"+cmd.ID, cmd.RequestID)
	return struct{}{}, nil
}

// FireCmd handles a schedule's due fire times, oldest first, in one
// entry: it queues their jobs and advances LastFired together, so a fire
// time makes exactly one job even across leader changes.
type FireCmd struct {
	ScheduleID string      `json:"schedule_id"`
	FireTimes  []time.Time `json:"fire_times"`
	// Manual is a trigger-now: one job outside the cron timetable.
	Manual bool   `json:"manual,omitempty"`
	JobID  string `json:"job_id,omitempty"` // for Manual
	// More says that later due fire times follow in another entry (a
	// catch-up too long for one search): run_once then folds all missed
	// times of this entry into the job of a later one.
	More bool `json:"more,omitempty"`
}

func (s scheduleApply) fireSchedule(c applyContext, cmd *FireCmd) ([]Fire, error) {
	sc := s.schedules[cmd.ScheduleID]
	if sc == nil {
		return nil, errorf(CodeNotFound, "schedule %s not found", cmd.ScheduleID)
	}
	if cmd.Manual {
		return s.fireManual(c, sc, cmd.JobID)
	}
	var due []time.Time
	for _, t := range cmd.FireTimes {
		if t.After(sc.LastFired) && !t.After(c.now) {
			due = append(due, t) // older ones were handled by an earlier entry
		}
	}
	if !sc.Enabled || len(due) == 0 {
		return nil, nil
	}
	fires := s.planFires(c, sc, due, cmd.More)
	leak := s.clearSecretParam(sc)
	for i := range fires {
		if fires[i].Skipped == "" && leak != "" {
			fires[i].Skipped = SkippedSecretParams
		}
		if fires[i].Skipped == "" {
			fires[i].JobID = s.fireJob(c, sc, fires[i].FireTime, FireJobID(sc.ID, fires[i].FireTime))
		}
	}
	sc.LastFired = due[len(due)-1]
	s.noteFires(sc, fires)
	sc.History = append(slices.Clip(sc.History), fires...)
	sc.History = sc.History[max(0, len(sc.History)-scheduleHistory):]
	return fires, nil
}

// planFires applies the misfire and overlap policies to due fire times.
func (s scheduleApply) planFires(c applyContext, sc *Schedule, due []time.Time, more bool) []Fire {
	fires := make([]Fire, len(due))
	var missed []int
	for i, t := range due {
		fires[i] = Fire{FireTime: t, QueuedAt: c.now}
		if c.now.Sub(t) > MisfireGrace {
			missed = append(missed, i)
		}
	}
	switch sc.Misfire {
	case MisfireSkip:
		for _, i := range missed {
			fires[i].Skipped = "misfire"
		}
	case MisfireRunOnce:
		// All missed times but the newest fold into the newest one's job,
		// which comes in a later entry when more follow.
		if !more && len(missed) > 0 {
			missed = missed[:len(missed)-1]
		}
		for _, i := range missed {
			fires[i].Skipped = "coalesced"
		}
	}
	if sc.Overlap == OverlapForbid {
		busy := s.scheduleBusy(sc.ID)
		for i := range fires {
			if fires[i].Skipped != "" {
				continue
			}
			if busy {
				fires[i].Skipped = "overlap"
			}
			busy = true // the job this fire makes is queued from now on
		}
	}
	return fires
}

func (s scheduleApply) fireManual(c applyContext, sc *Schedule, jobID string) ([]Fire, error) {
	if jobID == "" {
		return nil, errorf(CodeInvalid, "a manual trigger needs a job id")
	}
	for _, f := range sc.History {
		if f.Manual && f.JobID == jobID {
			return []Fire{f}, nil // a retried trigger
		}
	}
	if name := s.clearSecretParam(sc); name != "" {
		return nil, errorf(CodeConflict, "schedule %s holds parameter %q in clear, but the workflow's latest version declares it a secret variable: create the schedule again so that it is sealed", sc.ID, name)
	}
	f := Fire{FireTime: c.now, QueuedAt: c.now, Manual: true}
	f.JobID = s.fireJob(c, sc, c.now, jobID)
	s.noteFires(sc, []Fire{f})
	sc.History = append(slices.Clip(sc.History), f)
	sc.History = sc.History[max(0, len(sc.History)-scheduleHistory):]
	return []Fire{f}, nil
}

// SkippedSecretParams is the reason a fire made no job: the schedule's
// parameters hold in clear a variable that the workflow's latest version
// declares secret (a version saved after the schedule). The FSM cannot
// seal it, and a job must not carry it in clear.
const SkippedSecretParams = "secret_params"

// clearSecretParam names a parameter of sc's template that the version a
// fire would run declares secret and the template holds in clear, or "".
func (s scheduleApply) clearSecretParam(sc *Schedule) string {
	wf := s.workflows[sc.WorkflowID]
	if wf == nil || len(sc.Template.Params) == 0 {
		return ""
	}
	var all map[string]json.RawMessage
	if json.Unmarshal(sc.Template.Params, &all) != nil {
		return ""
	}
	for _, n := range wf.Latest().SecretVariables {
		if v, ok := all[n]; ok && !bytes.Equal(v, maskedParam) {
			return n
		}
	}
	return ""
}

func (s scheduleApply) fireJob(c applyContext, sc *Schedule, fireTime time.Time, id string) string {
	t := sc.Template
	return s.submitJob(c, JobSpec{
		ID: id, WorkflowID: sc.WorkflowID, Params: t.Params, SealedParams: t.SealedParams, Priority: t.Priority,
		ExecutionMode: t.ExecutionMode, RobotTags: t.RobotTags, MaxAttempts: t.MaxAttempts,
		ScheduleID: sc.ID, FireTime: fireTime,
	}).ID
}

// scheduleBusy reports whether a job from the schedule is queued or running.
func (s scheduleApply) scheduleBusy(id string) bool {
	for _, j := range s.running {
		if j.ScheduleID == id {
			return true
		}
	}
	busy := false
	s.queue.Ascend(func(j *Job) bool {
		busy = j.ScheduleID == id
		return !busy
	})
	return busy
}
