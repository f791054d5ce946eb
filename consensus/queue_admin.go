package consensus

import (
	"encoding/json"
	"time"
)

// PauseCmd pauses or resumes the whole queue or one workflow's jobs.
type PauseCmd struct {
	WorkflowID string `json:"workflow_id,omitempty"`
	Paused     bool   `json:"paused"`
}

func (s jobsApply) pause(_ applyContext, cmd *PauseCmd) (struct{}, error) {
	if cmd.WorkflowID == "" {
		s.queuePaused = cmd.Paused
		return struct{}{}, nil
	}
	wf := s.workflows[cmd.WorkflowID]
	if wf == nil {
		return struct{}{}, errorf(CodeNotFound, "workflow %s not found", cmd.WorkflowID)
	}
	wf.Settings.Paused = cmd.Paused
	return struct{}{}, nil
}

// SettingsCmd changes a workflow's queue settings.
type SettingsCmd struct {
	WorkflowID        string    `json:"workflow_id"`
	MaxConcurrency    *int      `json:"max_concurrency,omitempty"`
	VisibilityTimeout *Duration `json:"visibility_timeout,omitempty"`
}

func (s jobsApply) setSettings(_ applyContext, cmd *SettingsCmd) (WorkflowSettings, error) {
	wf := s.workflows[cmd.WorkflowID]
	if wf == nil {
		return WorkflowSettings{}, errorf(CodeNotFound, "workflow %s not found", cmd.WorkflowID)
	}
	if cmd.MaxConcurrency != nil && *cmd.MaxConcurrency < 0 {
		return WorkflowSettings{}, errorf(CodeInvalid, "max_concurrency %d is negative", *cmd.MaxConcurrency)
	}
	if cmd.VisibilityTimeout != nil && time.Duration(*cmd.VisibilityTimeout) < time.Second {
		return WorkflowSettings{}, errorf(CodeInvalid, "visibility_timeout %s is under 1s", time.Duration(*cmd.VisibilityTimeout))
	}
	if cmd.MaxConcurrency != nil {
		wf.Settings.MaxConcurrency = *cmd.MaxConcurrency
	}
	if cmd.VisibilityTimeout != nil {
		wf.Settings.VisibilityTimeout = *cmd.VisibilityTimeout
	}
	return wf.Settings, nil
}

// RerunCmd queues a finished job again as a new job.
type RerunCmd struct {
	JobID  string `json:"job_id"`
	NewID  string `json:"new_id"`
	Latest bool   `json:"latest,omitempty"` // use the workflow's latest version
}

// RerunResealedCmd is a re-run whose parameters the server sealed again
// (cmdRerunResealed): the version it runs declares secret a parameter
// that the old job holds in clear, or the old job's are sealed under a
// retired key, so they cannot be copied as they are (rerun_seal.go).
type RerunResealedCmd struct {
	RerunCmd
	Params       json.RawMessage `json:"params"`
	SealedParams *SealedParams   `json:"sealed_params,omitempty"`
}

func (s jobsApply) rerun(c applyContext, cmd *RerunCmd) (Job, error) {
	return s.rerunWith(c, *cmd, nil)
}

func (s jobsApply) rerunResealed(c applyContext, cmd *RerunResealedCmd) (Job, error) {
	return s.rerunWith(c, cmd.RerunCmd, func(spec *JobSpec) {
		spec.Params, spec.SealedParams = cmd.Params, cmd.SealedParams
	})
}

// rerunWith queues the re-run, its spec changed by adjust when not nil.
func (s jobsApply) rerunWith(c applyContext, cmd RerunCmd, adjust func(*JobSpec)) (Job, error) {
	old := s.jobs[cmd.JobID]
	if old == nil {
		return Job{}, errorf(CodeNotFound, "job %s not found", cmd.JobID)
	}
	if existing := s.jobs[cmd.NewID]; existing != nil {
		return cloneJob(existing), nil // a retried rerun
	}
	if !old.State.Terminal() {
		return Job{}, errorf(CodeConflict, "job %s is %s; only a finished job can be re-run", old.ID, old.State)
	}
	spec := rerunSpec(old, cmd)
	if adjust != nil {
		adjust(&spec)
	}
	if err := s.checkSpec(spec); err != nil {
		return Job{}, err
	}
	return cloneJob(s.submitJob(c, spec)), nil
}

// rerunSpec is the spec of a re-run of old: the same job under a new id.
func rerunSpec(old *Job, cmd RerunCmd) JobSpec {
	spec := JobSpec{
		ID: cmd.NewID, WorkflowID: old.WorkflowID, WorkflowVersion: old.WorkflowVersion,
		Params: old.Params, SealedParams: old.SealedParams, Priority: old.Priority, ExecutionMode: old.ExecutionMode,
		RobotTags: old.RobotTags, PinnedRobot: old.PinnedRobot, MaxAttempts: old.MaxAttempts,
		Backoff: old.Backoff, RerunOf: old.ID,
	}
	if cmd.Latest {
		spec.WorkflowVersion = 0
	}
	return spec
}
