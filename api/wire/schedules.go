package wire

import (
	"encoding/json"
	"time"
)

// Wire types of the schedule endpoints.

// ScheduleRequest is the body of POST /api/v1/schedules. Absent fields
// take their defaults: timezone UTC, enabled, misfire run_all,
// catchup_window 1h, overlap allow, and the job defaults.
type ScheduleRequest struct {
	WorkflowID string `json:"workflow_id"`
	// Cron has 5 fields, or 6 with leading seconds, or is a descriptor
	// such as "@every 5m" or "@daily".
	Cron     string `json:"cron"`
	Timezone string `json:"timezone,omitempty"`
	Enabled  *bool  `json:"enabled,omitempty"`
	// Misfire is run_all, run_once or skip: what to do with fire times
	// missed while no leader could fire them.
	Misfire string `json:"misfire,omitempty"`
	// CatchupWindow is how far back missed fire times are caught up,
	// like "1h".
	CatchupWindow string `json:"catchup_window,omitempty"`
	// Overlap is allow or forbid: whether a fire may queue a job while
	// the schedule's previous job is still queued or running.
	Overlap       string          `json:"overlap,omitempty"`
	Priority      *int            `json:"priority,omitempty"`
	ExecutionMode string          `json:"execution_mode,omitempty"`
	Params        json.RawMessage `json:"params,omitempty"`
	RobotTags     []string        `json:"robot_tags,omitempty"`
	MaxAttempts   *int            `json:"max_attempts,omitempty"`
}

// Schedule is a schedule as the API shows it. Lists leave out History.
type Schedule struct {
	ID            string          `json:"id"`
	WorkflowID    string          `json:"workflow_id"`
	Cron          string          `json:"cron"`
	Timezone      string          `json:"timezone"`
	Enabled       bool            `json:"enabled"`
	Misfire       string          `json:"misfire"`
	CatchupWindow string          `json:"catchup_window"`
	Overlap       string          `json:"overlap"`
	Priority      int             `json:"priority"`
	ExecutionMode string          `json:"execution_mode"`
	Params        json.RawMessage `json:"params"`
	RobotTags     []string        `json:"robot_tags,omitempty"`
	MaxAttempts   int             `json:"max_attempts"`
	// NextRun is the next fire time; absent while disabled.
	NextRun time.Time `json:"next_run,omitzero"`
	// LastRun is the latest fire time handled, by a job or a recorded
	// skip; it starts at the time the schedule was created or enabled.
	LastRun   time.Time      `json:"last_run,omitzero"`
	History   []ScheduleFire `json:"history,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// ScheduleFire records what one fire time did: queued JobID, or was
// Skipped ("overlap", "misfire", "coalesced" or "secret_params": the
// schedule holds in clear a parameter the workflow's latest version
// declares secret).
type ScheduleFire struct {
	FireTime time.Time `json:"fire_time"`
	JobID    string    `json:"job_id,omitempty"`
	Skipped  string    `json:"skipped,omitempty"`
	QueuedAt time.Time `json:"queued_at"`
	// Manual says the fire was a trigger by hand, not the cron.
	Manual bool `json:"manual,omitempty"`
}

// ScheduleList is the body of GET /api/v1/schedules.
type ScheduleList struct {
	Schedules    []Schedule `json:"schedules"`
	AppliedIndex uint64     `json:"applied_index"`
}

// TriggerScheduleResponse answers PUT /api/v1/schedules/{id}/trigger.
type TriggerScheduleResponse struct {
	ScheduleID string    `json:"schedule_id"`
	JobID      string    `json:"job_id"`
	FireTime   time.Time `json:"fire_time"`
}

// SchedulePreview answers GET /api/v1/schedules/preview: the next fire
// times of a cron expression in its time zone, as the scheduler computes
// them.
type SchedulePreview struct {
	Cron     string `json:"cron"`
	Timezone string `json:"timezone"`
	// Next holds up to five fire times after now, in the schedule's zone
	// (RFC 3339 with its offset); fewer when the expression fires fewer
	// times in the scheduler's search window.
	Next []time.Time `json:"next"`
}
