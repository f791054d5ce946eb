package api

import (
	"cmp"
	"encoding/json"
	"time"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// These functions map the replicated records to their API form.

func workflowSummary(wf consensus.Workflow) WorkflowSummary {
	tags := wf.Tags
	if tags == nil {
		tags = []string{}
	}
	return WorkflowSummary{
		ID: wf.ID, Name: wf.Name, LatestVersion: wf.Latest().Version, Tags: tags,
		CreatedAt: wf.CreatedAt, UpdatedAt: wf.UpdatedAt,
	}
}

func workflowDetail(wf consensus.Workflow) Workflow {
	latest := wf.Latest()
	return Workflow{
		WorkflowSummary: workflowSummary(wf), Checksum: latest.Checksum, Graph: latest.Graph,
		Settings: workflowSettings(wf.Settings),
	}
}

func workflowSettings(s consensus.WorkflowSettings) WorkflowSettings {
	visibility := cmp.Or(time.Duration(s.VisibilityTimeout), consensus.DefaultVisibilityTimeout)
	return WorkflowSettings{MaxConcurrency: s.MaxConcurrency, VisibilityTimeout: visibility.String(), Paused: s.Paused}
}

func workflowVersion(v consensus.WorkflowVersion) WorkflowVersion {
	return WorkflowVersion{Version: v.Version, Checksum: v.Checksum, CreatedAt: v.CreatedAt, Graph: v.Graph}
}

// emptyParams is what a job without parameters shows: an empty object,
// so clients can always index into params.
var emptyParams = json.RawMessage(`{}`)

// jobView shows a job as of now, which decides whether it is late.
func jobView(j consensus.Job, now time.Time) Job {
	r := j.Run()
	v := Job{
		ID: j.ID, WorkflowID: j.WorkflowID, WorkflowVersion: j.WorkflowVersion,
		State: string(j.State), Priority: j.Priority, ExecutionMode: j.ExecutionMode,
		Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, RobotID: r.RobotID,
		RobotTags: j.RobotTags, PinnedRobot: j.PinnedRobot, Params: j.Params,
		Result: r.Result, Error: r.Error, FailureKind: r.FailureKind, UniqueKey: j.UniqueKey,
		NotBefore: j.NotBefore, Deadline: j.Deadline, ScheduleID: j.ScheduleID, FireTime: j.FireTime,
		Late:       !j.Deadline.IsZero() && now.After(j.Deadline) && !j.State.Terminal(),
		Checkpoint: r.Checkpoint, LastLogs: logLines(r.Logs),
		NodeStatus: r.NodeStatus, RerunOf: r.RerunOf,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt,
		Source: SourceRaft,
	}
	if r.Backoff > 0 {
		v.Backoff = time.Duration(r.Backoff).String()
	}
	if isAbsent(v.Params) {
		v.Params = emptyParams
	}
	if r.Lease != nil {
		v.LeaseExpiresAt = r.Lease.ExpiresAt
	}
	v.Attempts = attemptViews(r.Attempts)
	return v
}

func attemptViews(attempts []consensus.Attempt) []JobAttempt {
	if len(attempts) == 0 {
		return nil
	}
	out := make([]JobAttempt, len(attempts))
	for i, a := range attempts {
		out[i] = JobAttempt{Attempt: a.Attempt, RobotID: a.RobotID, StartedAt: a.StartedAt,
			FinishedAt: a.FinishedAt, Outcome: a.Outcome, Error: a.Error}
	}
	return out
}

func jobViews(jobs []consensus.Job, now time.Time) []Job {
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = jobView(j, now)
	}
	return out
}

// jobSummaries shows jobs for a list, without the fields that can be
// large: a page of a thousand jobs must stay small.
func jobSummaries(jobs []consensus.Job, now time.Time) []Job {
	out := jobViews(jobs, now)
	for i := range out {
		out[i].Checkpoint, out[i].LastLogs = nil, nil
	}
	return out
}

func logLines(lines []consensus.LogLine) []LogLine {
	if len(lines) == 0 {
		return nil
	}
	out := make([]LogLine, len(lines))
	for i, l := range lines {
		out[i] = logLine(l)
	}
	return out
}

func logLine(l consensus.LogLine) LogLine {
	return LogLine{Time: l.Time, Level: l.Level, NodeID: l.NodeID, Message: l.Message}
}

func queueStatsView(q consensus.QueueStats, now time.Time) QueueStats {
	v := QueueStats{
		Paused: q.Paused, PausedWorkflows: q.PausedWorkflows, ByState: map[string]int{},
		QueuedByPriority: q.QueuedByPrio, OldestQueuedAt: q.OldestQueued,
		FinishedLastMinute: q.FinishedLastMin, AppliedIndex: q.AppliedIndex,
	}
	if v.PausedWorkflows == nil {
		v.PausedWorkflows = []string{}
	}
	for _, st := range wire.JobStates() {
		v.ByState[st] = q.ByState[consensus.JobState(st)]
	}
	if !q.OldestQueued.IsZero() {
		v.OldestQueuedAgeSeconds = max(0, now.Sub(q.OldestQueued).Seconds())
	}
	return v
}

// scheduleView shows a schedule as of now, which decides its next run.
// A schedule whose expression no longer parses shows no next run rather
// than failing the read; the leader logs why it cannot fire it.
func scheduleView(sc consensus.Schedule, now time.Time) Schedule {
	t := sc.Template
	v := Schedule{
		ID: sc.ID, WorkflowID: sc.WorkflowID, Cron: sc.Cron, Timezone: cmp.Or(sc.Timezone, "UTC"),
		Enabled: sc.Enabled, Misfire: sc.Misfire, CatchupWindow: time.Duration(sc.CatchupWindow).String(),
		Overlap: sc.Overlap, Priority: t.Priority, ExecutionMode: t.ExecutionMode, Params: t.Params,
		RobotTags: t.RobotTags, MaxAttempts: cmp.Or(t.MaxAttempts, consensus.DefaultMaxAttempts),
		LastRun: sc.LastFired, CreatedAt: sc.CreatedAt, UpdatedAt: sc.UpdatedAt,
	}
	if isAbsent(v.Params) {
		v.Params = emptyParams
	}
	if sc.Enabled {
		v.NextRun, _ = sc.NextRun(now)
	}
	v.History = fireViews(sc.History)
	return v
}

func fireViews(fires []consensus.Fire) []ScheduleFire {
	if len(fires) == 0 {
		return nil
	}
	out := make([]ScheduleFire, len(fires))
	for i, f := range fires {
		out[i] = ScheduleFire{FireTime: f.FireTime, JobID: f.JobID, Skipped: f.Skipped, QueuedAt: f.QueuedAt, Manual: f.Manual}
	}
	return out
}

func robotTokenView(t consensus.RobotToken) RobotToken {
	return RobotToken{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		Tags: t.Tags, Capacity: t.Capacity, Revoked: t.Revoked}
}
