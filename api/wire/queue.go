package wire

import "time"

// Wire types of the queue endpoints: job logs, re-runs, pausing,
// workflow queue settings, queue statistics and the answer of the
// internal robot wait.

// LogLine is one line a job's run logged.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	NodeID  string    `json:"node_id,omitempty"`
	Message string    `json:"message"`
}

// JobLogs is the body of GET /api/v1/jobs/{id}/logs: one page of the
// lines Raft keeps of a job's log.
type JobLogs struct {
	JobID string    `json:"job_id"`
	Lines []LogLine `json:"lines"`
	// NextOffset is the offset of the line after this page.
	NextOffset int `json:"next_offset"`
	// Finished says the job has finished: no line will be added.
	Finished     bool   `json:"finished"`
	AppliedIndex uint64 `json:"applied_index"`
}

// JobLogsEnd is the data of the "end" event that closes a followed log.
type JobLogsEnd struct {
	JobID string `json:"job_id"`
	State string `json:"state"`
	Error string `json:"error,omitempty"`
}

// RerunJobRequest is the optional body of POST /api/v1/jobs/{id}/rerun.
type RerunJobRequest struct {
	// LatestVersion runs the workflow's latest version instead of the
	// version the job ran.
	LatestVersion bool `json:"latest_version,omitempty"`
}

// WorkflowSettingsRequest is the body of PUT
// /api/v1/workflows/{id}/settings; absent fields keep their value.
type WorkflowSettingsRequest struct {
	// MaxConcurrency caps how many of the workflow's jobs run at once;
	// 0 removes the cap.
	MaxConcurrency *int `json:"max_concurrency,omitempty"`
	// VisibilityTimeout is the lease a claim grants, like "45s".
	VisibilityTimeout string `json:"visibility_timeout,omitempty"`
}

// WorkflowSettings are the queue rules of one workflow's jobs.
type WorkflowSettings struct {
	MaxConcurrency int `json:"max_concurrency"`
	// VisibilityTimeout is the lease a claim grants; the cluster default
	// when the workflow sets none.
	VisibilityTimeout string `json:"visibility_timeout"`
	Paused            bool   `json:"paused"`
}

// QueueStats is the body of GET /api/v1/queue.
type QueueStats struct {
	Paused          bool     `json:"paused"`
	PausedWorkflows []string `json:"paused_workflows"`
	// ByState counts jobs in every state, zeros included.
	ByState map[string]int `json:"by_state"`
	// QueuedByPriority counts queued jobs by priority.
	QueuedByPriority       map[int]int `json:"queued_by_priority"`
	OldestQueuedAt         time.Time   `json:"oldest_queued_at,omitzero"`
	OldestQueuedAgeSeconds float64     `json:"oldest_queued_age_seconds"`
	FinishedLastMinute     int         `json:"finished_last_minute"`
	AppliedIndex           uint64      `json:"applied_index"`
}

// RobotWaitResponse answers POST /internal/v1/robot/wait.
type RobotWaitResponse struct {
	// Work says a claim may now find a job; false means the wait timed
	// out.
	Work bool `json:"work"`
}
