package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// cmdDebugJob sends a debugger command to the robot running a job.
const cmdDebugJob commandType = 55

// Debug actions a client sends to a paused run.
const (
	DebugContinue = "continue"  // run to the next breakpoint
	DebugStep     = "step"      // stop before the next node, stepping over subworkflows
	DebugStepInto = "step_into" // stop before the next node, inside subworkflows too
)

// Bounds of a debug session's pause timeout: how long a run waits at a
// stop for a command before it goes on without breakpoints.
const (
	DefaultDebugPauseTimeout = 10 * time.Minute
	MaxDebugPauseTimeout     = 24 * time.Hour
	MaxDebugBreakpoints      = 256
)

// DebugOptions make a job a debug session: its run stops before the
// breakpoint nodes (a subworkflow's nodes as CALL/NODE).
type DebugOptions struct {
	Breakpoints  []string `json:"breakpoints,omitempty"`
	PauseTimeout Duration `json:"pause_timeout,omitempty"`
}

// Check validates the options; a zero PauseTimeout means the default.
func (o DebugOptions) Check() error {
	if len(o.Breakpoints) > MaxDebugBreakpoints {
		return errorf(CodeInvalid, "debug.breakpoints: %d breakpoints, at most %d", len(o.Breakpoints), MaxDebugBreakpoints)
	}
	for _, b := range o.Breakpoints {
		if b == "" || len(b) > 512 {
			return errorf(CodeInvalid, "debug.breakpoints: %q is not a node id", b)
		}
	}
	switch t := time.Duration(o.PauseTimeout); {
	case t == 0:
	case t < time.Second || t > MaxDebugPauseTimeout:
		return errorf(CodeInvalid, "debug.pause_timeout: %s is outside 1s..%s", t, MaxDebugPauseTimeout)
	}
	return nil
}

// withDefaults fills in the default pause timeout.
func (o DebugOptions) withDefaults() DebugOptions {
	if o.PauseTimeout == 0 {
		o.PauseTimeout = Duration(DefaultDebugPauseTimeout)
	}
	return o
}

// DebugCommand is the newest command for a job's run. The robot applies
// each Seq once; Breakpoints, when not nil, replace the run's set.
type DebugCommand struct {
	Seq uint64 `json:"seq"`
	// Stop is the stop of the run the command answers (DebugReport.Stop):
	// a command sent while an older stop was shown is not applied to a
	// newer one.
	Stop        uint64   `json:"stop"`
	Action      string   `json:"action"`
	Breakpoints []string `json:"breakpoints,omitempty"`
}

// DebugReport is a robot's word on a debug run: where it stopped, or
// that it runs on. Vars are already redacted by the engine.
type DebugReport struct {
	Paused bool            `json:"paused"`
	Stop   uint64          `json:"stop,omitempty"` // numbers the run's stops from 1
	Node   string          `json:"node,omitempty"`
	Reason string          `json:"reason,omitempty"` // breakpoint, step
	Vars   json.RawMessage `json:"variables,omitempty"`
	Stack  []DebugFrame    `json:"call_stack,omitempty"`
	Since  time.Time       `json:"since,omitzero"`
	// Detached says the run stopped debugging: a pause timed out.
	Detached string `json:"detached,omitempty"`
}

// DebugFrame is one subworkflow call around the paused node.
type DebugFrame struct {
	Workflow string `json:"workflow"`
	NodeID   string `json:"node_id"`
}

// JobDebug is a job's debug session as the cluster knows it.
type JobDebug struct {
	Options DebugOptions `json:"options"`
	// Paused is the current stop of the running attempt; nil while it
	// runs, and cleared when the job leaves the running state.
	Paused *DebugReport `json:"paused,omitempty"`
	// Command is the newest command for the running attempt.
	Command *DebugCommand `json:"command,omitempty"`
	// Seq numbers commands across attempts.
	Seq      uint64 `json:"seq"`
	Detached string `json:"detached,omitempty"`
}

// DebugJobCmd asks the run of a paused debug job to go on.
type DebugJobCmd struct {
	JobID       string   `json:"job_id"`
	Action      string   `json:"action"`
	Breakpoints []string `json:"breakpoints,omitempty"`
}

func (s jobsApply) debugJob(_ applyContext, cmd *DebugJobCmd) (Job, error) {
	j := s.jobs[cmd.JobID]
	switch {
	case j == nil:
		return Job{}, errorf(CodeNotFound, "job %s not found", cmd.JobID)
	case j.Debug == nil:
		return Job{}, errorf(CodeConflict, "job %s is not a debug session (submit it with debug options)", cmd.JobID)
	case j.State != JobRunning:
		return Job{}, errorf(CodeConflict, "job %s is %s, not running", cmd.JobID, j.State)
	case j.Debug.Paused == nil:
		return Job{}, errorf(CodeConflict, "job %s is not paused", cmd.JobID)
	}
	if !slices.Contains([]string{DebugContinue, DebugStep, DebugStepInto}, cmd.Action) {
		return Job{}, errorf(CodeInvalid, "action: must be continue, step or step_into, not %q", cmd.Action)
	}
	if cmd.Breakpoints != nil {
		o := DebugOptions{Breakpoints: cmd.Breakpoints, PauseTimeout: j.Debug.Options.PauseTimeout}
		if err := o.Check(); err != nil {
			return Job{}, err
		}
	}
	j = s.mutableJob(j)
	if cmd.Breakpoints != nil {
		j.Debug.Options.Breakpoints = cmd.Breakpoints
	}
	j.Debug.Seq++
	j.Debug.Command = &DebugCommand{Seq: j.Debug.Seq, Stop: j.Debug.Paused.Stop, Action: cmd.Action, Breakpoints: cmd.Breakpoints}
	return cloneJob(j), nil
}

// recordDebug keeps a robot's debug report on its job and returns the
// command the robot has yet to see.
func recordDebug(j *Job, r *DebugReport) *DebugCommand {
	if j.Debug == nil {
		return nil
	}
	if r != nil {
		if r.Paused {
			j.Debug.Paused = r
		} else {
			j.Debug.Paused = nil
		}
		if r.Detached != "" {
			j.Debug.Detached = r.Detached
		}
	}
	return j.Debug.Command
}

// endDebugAttempt forgets the stop and the command of an attempt that
// left the running state: a requeued job is not paused, and the next
// attempt starts with the job's own breakpoints.
func endDebugAttempt(j *Job) {
	if j.Debug != nil {
		j.Debug.Paused, j.Debug.Command = nil, nil
	}
}

// DebugJob sends a debugger command to a paused debug job's run.
func (s JobQueue) DebugJob(ctx context.Context, cmd DebugJobCmd) (Job, error) {
	if cmd.JobID == "" {
		return Job{}, fmt.Errorf("debug job: %w", errorf(CodeInvalid, "job id is empty"))
	}
	return apply[Job](ctx, s.Store, cmdDebugJob, cmd)
}
