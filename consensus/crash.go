package consensus

import (
	"context"
	"fmt"
)

// MaxCrashes is how many runs of one job may kill their robot's process
// before the job is dead: once can be bad luck (the machine was killed),
// twice on the same job means the job kills robots, and running it again
// would take down the next robot too.
const MaxCrashes = 2

// AttemptCrashed is the outcome of an attempt whose run killed its
// robot's process; FailureCrash is the failure kind of a job that is dead
// because of it.
const (
	AttemptCrashed = "crashed"
	FailureCrash   = "crash"
)

// Crash is one run a robot was executing when its process died, as the
// robot's journal noted it before the run began.
type Crash struct {
	JobID   string `json:"job_id"`
	Token   uint64 `json:"token"`
	Attempt int    `json:"attempt"`
}

// CrashCmd reports the runs a robot's process was executing when it died,
// sent by the robot when it comes back. A robot that was cut off or
// declared dead but kept running reports nothing: only a process that
// died with a run in progress is a crash.
type CrashCmd struct {
	RobotID string  `json:"robot_id"`
	Items   []Crash `json:"items"`
}

// ReportCrash records crashed runs: each counts once per attempt however
// often it is reported, ends its attempt (requeueing the job if this robot
// still holds it) and, at MaxCrashes, moves the job to dead whatever its
// state, unless it has already finished. It is idempotent, so a robot
// retries it after an unknown outcome.
func (s RobotQueue) ReportCrash(ctx context.Context, cmd CrashCmd) ([]Ack, error) {
	return apply[[]Ack](ctx, s.Store, cmdReportCrash, cmd)
}

func (s queueApply) reportCrash(c applyContext, cmd *CrashCmd) ([]Ack, error) {
	if cmd.RobotID == "" {
		return nil, errorf(CodeInvalid, "a crash report needs a robot id")
	}
	acks := make([]Ack, len(cmd.Items))
	for i, item := range cmd.Items {
		acks[i] = s.crashed(c, cmd.RobotID, item)
	}
	return acks, nil
}

func (s queueApply) crashed(c applyContext, robot string, item Crash) Ack {
	j := s.jobs[item.JobID]
	if j == nil {
		return Ack{JobID: item.JobID, Reason: "job not found"}
	}
	j = s.mutableJob(j) // before crashedAttempt points into its attempts
	a := s.crashedAttempt(j, robot, item.Attempt)
	if a == nil {
		return Ack{JobID: j.ID, State: j.State, Reason: "no such attempt on this robot"}
	}
	if a.Outcome == AttemptCrashed {
		return Ack{JobID: j.ID, OK: true, State: j.State} // a repeat
	}
	reason := fmt.Sprintf("the process of robot %s died while it ran attempt %d", robot, item.Attempt)
	j.Crashes++
	if held, _ := s.leased(j.ID, robot, item.Token); held != nil && j.Crashes < MaxCrashes {
		s.retryOrFail(j, reason, JobDead, s.backoff(j), c)
	}
	// retryOrFail may have ended the attempt as failed: it crashed.
	a.Outcome, a.Error = AttemptCrashed, reason
	if a.FinishedAt.IsZero() {
		a.FinishedAt = c.now
	}
	if j.Crashes >= MaxCrashes && !j.State.Terminal() {
		j.Error = fmt.Sprintf("runs of this job killed their robot's process %d times (last: %s); it is not run again", j.Crashes, reason)
		j.FailureKind = FailureCrash
		s.setJobState(j, JobDead, c)
	}
	return Ack{JobID: j.ID, OK: true, State: j.State}
}

// crashedAttempt finds the attempt the robot ran; attempts are few, so a
// scan from the newest is cheap.
func (s queueApply) crashedAttempt(j *Job, robot string, attempt int) *Attempt {
	for i := len(j.Attempts) - 1; i >= 0; i-- {
		if a := &j.Attempts[i]; a.Attempt == attempt && a.RobotID == robot {
			return a
		}
	}
	return nil
}
