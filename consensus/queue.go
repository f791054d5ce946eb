package consensus

import (
	"cmp"
	"encoding/json"
	"slices"
	"time"

	"github.com/casare/casare/api/wire"
)

// Queue tuning shared by the FSM and the leader.
const (
	// DefaultVisibilityTimeout is the lease a claim grants when the
	// workflow does not set its own.
	DefaultVisibilityTimeout = 30 * time.Second
	// DefaultBackoff is the base delay before an application failure is
	// retried; it doubles with every attempt up to MaxBackoff.
	DefaultBackoff = time.Second
	MaxBackoff     = 5 * time.Minute
	// MaxJobLogLines is how many log lines Raft keeps per job.
	MaxJobLogLines = 200
	// avoidWindow is how long a requeued job waits for a different robot
	// before the robot that lost it may take it again.
	avoidWindow = 3 * time.Second
)

// Failure kinds a robot reports (see wire.FailureBusiness).
const (
	FailureBusiness    = wire.FailureBusiness
	FailureApplication = wire.FailureApplication
)

// Robot kinds a claim comes from.
const (
	RobotLAN      = wire.RobotKindLAN
	RobotInternet = wire.RobotKindInternet
)

// lastClaim remembers a robot's latest claim so that a retry of it (its
// outcome was unknown to the robot) returns the same jobs.
type lastClaim struct {
	RequestID string   `json:"request_id"`
	Token     uint64   `json:"token"`
	JobIDs    []string `json:"job_ids"`
}

// ClaimCmd asks for up to Max eligible jobs for one robot.
type ClaimCmd struct {
	RobotID   string   `json:"robot_id"`
	RobotKind string   `json:"robot_kind"`
	Tags      []string `json:"tags,omitempty"`
	Max       int      `json:"max"`
	RequestID string   `json:"request_id,omitempty"`
	// Have lists graphs the robot holds: the server that serves the
	// claim leaves them out of its answer (OmitHeldGraphs). It travels
	// beside the command (in the tunnel's claim request, in the HTTP
	// claim's query), never in the log.
	Have []GraphRef `json:"-"`
}

// ClaimedJob is a leased job with the graph of its workflow version, so
// the robot needs no second read — unless the robot said it holds that
// graph (ClaimCmd.Have): then Graph is empty.
type ClaimedJob struct {
	Job   Job             `json:"job"`
	Graph json.RawMessage `json:"graph"`
	// Secrets are the values of the secrets the workflow references,
	// opened by the server that served the claim after Raft committed it
	// (see Store.Claim). They never pass through Raft.
	Secrets map[string]string `json:"secrets,omitempty"`
	// SecretError says why the secrets could not be handed over (one is
	// deleted, or the workflow may not use it); the robot fails the job
	// with it, as a SecretErrorKind failure, without running it.
	SecretError     string `json:"secret_error,omitempty"`
	SecretErrorKind string `json:"secret_error_kind,omitempty"`
}

func (s queueApply) claimJobs(c applyContext, cmd *ClaimCmd) ([]ClaimedJob, error) {
	if cmd.RobotID == "" || cmd.Max <= 0 {
		return nil, errorf(CodeInvalid, "claim needs a robot id and max > 0")
	}
	if last, ok := s.lastClaims[cmd.RobotID]; ok && cmd.RequestID != "" && last.RequestID == cmd.RequestID {
		return s.replayClaim(last), nil
	}
	if s.drained[cmd.RobotID] {
		return []ClaimedJob{}, nil // it finishes what it runs and takes no more
	}
	var picked []*Job
	perWF := map[string]int{}
	s.queue.Ascend(func(j *Job) bool {
		if s.eligible(j, cmd, c.now, perWF) {
			picked = append(picked, j)
			perWF[j.WorkflowID]++
		}
		return len(picked) < cmd.Max
	})
	out := make([]ClaimedJob, 0, len(picked))
	ids := make([]string, 0, len(picked))
	for _, j := range picked {
		j = s.mutableJob(j)
		s.startAttempt(j, cmd.RobotID, c)
		if !c.following { // a follower's answer goes to no one (claimGroups)
			out = append(out, ClaimedJob{Job: cloneJob(j), Graph: s.graph(j)})
		}
		ids = append(ids, j.ID)
	}
	s.lastClaims[cmd.RobotID] = lastClaim{RequestID: cmd.RequestID, Token: c.index, JobIDs: ids}
	if c.following {
		return nil, errFollowing()
	}
	return out, nil
}

func (s queueApply) replayClaim(last lastClaim) []ClaimedJob {
	var out []ClaimedJob
	for _, id := range last.JobIDs {
		if j := s.jobs[id]; j != nil && j.lease() != nil && j.Lease.Token == last.Token {
			out = append(out, ClaimedJob{Job: cloneJob(j), Graph: s.graph(j)})
		}
	}
	return out
}

func (s queueApply) graph(j *Job) json.RawMessage {
	if wf := s.workflows[j.WorkflowID]; wf != nil {
		if v, ok := wf.Version(j.WorkflowVersion); ok {
			return v.Graph
		}
	}
	return nil
}

// eligible decides whether the claiming robot may take j now.
func (s *state) eligible(j *Job, cmd *ClaimCmd, now time.Time, picked map[string]int) bool {
	wf := s.workflows[j.WorkflowID]
	switch {
	case wf == nil, s.queuePaused, wf.Settings.Paused:
		return false
	case !suits(j.ExecutionMode, j.PinnedRobot, j.RobotTags, cmd):
		return false
	case now.Before(j.NotBefore):
		return false
	case j.JobRun != nil && j.AvoidRobot == cmd.RobotID && now.Sub(laterOf(j.UpdatedAt, j.NotBefore)) < avoidWindow:
		return false
	case wf.Settings.MaxConcurrency > 0 && s.runningPerWF[j.WorkflowID]+picked[j.WorkflowID] >= wf.Settings.MaxConcurrency:
		return false
	}
	return true
}

// suits reports whether cmd's robot may run a job of execution mode
// mode, pinned to the robot pinned (or to none), that needs tags: the
// part of eligible that a job's spec decides, which the announcer
// (announce.go) reads before the job exists.
func suits(mode, pinned string, tags []string, cmd *ClaimCmd) bool {
	if (mode != ModeAny && mode != cmd.RobotKind) || (pinned != "" && pinned != cmd.RobotID) {
		return false
	}
	for _, tag := range tags {
		if !slices.Contains(cmd.Tags, tag) {
			return false
		}
	}
	return true
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (s queueApply) visibility(j *Job) time.Duration {
	if wf := s.workflows[j.WorkflowID]; wf != nil && wf.Settings.VisibilityTimeout > 0 {
		return time.Duration(wf.Settings.VisibilityTimeout)
	}
	return DefaultVisibilityTimeout
}

// startAttempt leases j to a robot. The fencing token is the Raft index
// of the claim: unique, increasing, and the same on every replica.
func (s queueApply) startAttempt(j *Job, robot string, c applyContext) {
	s.setJobState(j, JobRunning, c)
	j.Attempt++
	j.RobotID = robot
	j.StartedAt = c.now
	j.Lease = &Lease{RobotID: robot, Token: c.index, ExpiresAt: c.now.Add(s.visibility(j)), RenewedAt: c.now}
	j.Attempts = append(slices.Clip(j.Attempts), Attempt{Attempt: j.Attempt, RobotID: robot, StartedAt: c.now})
}

// leased returns the running job if robot holds its current lease with
// token, or a reason why the caller must stop.
func (s queueApply) leased(id, robot string, token uint64) (*Job, string) {
	j := s.jobs[id]
	switch {
	case j == nil:
		return nil, "job not found"
	case j.State == JobCancelled:
		return nil, "job cancelled"
	case j.State != JobRunning || j.Lease == nil || j.Lease.Token != token:
		return nil, "lease lost (stale fencing token)"
	case robot != "" && j.Lease.RobotID != robot:
		return nil, "lease held by another robot"
	}
	return j, ""
}

// Progress is one job's heartbeat: it extends the lease and carries what
// happened since the last one.
type Progress struct {
	JobID      string          `json:"job_id"`
	Token      uint64          `json:"token"`
	Checkpoint json.RawMessage `json:"checkpoint,omitempty"`
	Logs       []LogLine       `json:"logs,omitempty"`
	// LogsEnd numbers Logs: they are lines LogsEnd-len(Logs) to
	// LogsEnd-1 of what the run logged under this lease, from 0. A robot
	// resends lines whose heartbeat's outcome it did not learn, and the
	// FSM records only those past Lease.LogsEnd, so a heartbeat that did
	// commit does not log its lines twice. 0 from a robot (or a node)
	// that predates the field: every line is recorded, as before.
	LogsEnd    int               `json:"logs_end,omitempty"`
	NodeStatus map[string]string `json:"node_status,omitempty"`
	// Debug is a debug run's stop or resumption, when it changed.
	Debug *DebugReport `json:"debug,omitempty"`
}

// ProgressCmd batches one robot's heartbeats for every job it runs, so
// progress costs one log entry per robot per tick.
type ProgressCmd struct {
	RobotID string     `json:"robot_id"`
	Items   []Progress `json:"items"`
}

// Ack answers one item of a batch. A robot stops a job whose ack says
// Stop: it was cancelled or its lease went to someone else.
type Ack struct {
	JobID    string    `json:"job_id"`
	OK       bool      `json:"ok"`
	Stop     bool      `json:"stop,omitempty"`
	State    JobState  `json:"state,omitempty"`
	Reason   string    `json:"reason,omitempty"`
	Deadline time.Time `json:"lease_expires_at,omitzero"`
	// Debug is the newest debugger command for a debug run.
	Debug *DebugCommand `json:"debug,omitempty"`
	// Waited is how long the node that took a heartbeat held it to merge
	// it with other robots' before sending it on. The lease was renewed
	// no sooner than that after the robot sent it, so the robot may count
	// its lease confirmed from its send time plus Waited. Not replicated:
	// the node sets it on the answer.
	Waited time.Duration `json:"waited_ns,omitempty"`
}

func (s queueApply) progress(c applyContext, cmd *ProgressCmd) ([]Ack, error) {
	return eachLeased(s, cmd.RobotID, cmd.Items, func(p Progress) (string, uint64) { return p.JobID, p.Token },
		func(j *Job, p Progress) Ack {
			s.record(j, p.Checkpoint, p.Logs, p.LogsEnd, p.NodeStatus)
			j.Lease.ExpiresAt = c.now.Add(s.visibility(j))
			j.Lease.RenewedAt = c.now
			j.UpdatedAt = c.now
			return Ack{JobID: p.JobID, OK: true, State: j.State, Deadline: j.Lease.ExpiresAt, Debug: recordDebug(j, p.Debug)}
		}), nil
}

// eachLeased runs apply on every item whose job the robot leases with
// the item's token, and answers the others with the reason to stop.
func eachLeased[T any](s queueApply, robot string, items []T, ref func(T) (string, uint64), apply func(*Job, T) Ack) []Ack {
	acks := make([]Ack, len(items))
	for i, item := range items {
		id, token := ref(item)
		j, why := s.leased(id, robot, token)
		if j == nil {
			acks[i] = Ack{JobID: id, Stop: true, Reason: why}
			continue
		}
		acks[i] = apply(s.mutableJob(j), item)
	}
	return acks
}

// Completion is a robot's final report on one attempt.
type Completion struct {
	JobID       string          `json:"job_id"`
	Token       uint64          `json:"token"`
	Succeeded   bool            `json:"succeeded"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	FailureKind string          `json:"failure_kind,omitempty"`
	Checkpoint  json.RawMessage `json:"checkpoint,omitempty"`
	Logs        []LogLine       `json:"logs,omitempty"`
	// LogsEnd numbers Logs as Progress.LogsEnd does.
	LogsEnd    int               `json:"logs_end,omitempty"`
	NodeStatus map[string]string `json:"node_status,omitempty"`
	// StoreSecrets are values the run asks the vault to keep (an OAuth
	// refresh token), by secret name. The server that receives the
	// completion seals and stores them and removes them before the
	// completion enters Raft (Store.Complete).
	StoreSecrets map[string]string `json:"store_secrets,omitempty"`
	// Debug is a debug run's last report, when no heartbeat carried it.
	Debug *DebugReport `json:"debug,omitempty"`
}

// CompleteCmd batches completions. A completion with a stale token is
// refused: two robots can never both finish the same attempt.
type CompleteCmd struct {
	RobotID string       `json:"robot_id"`
	Items   []Completion `json:"items"`
}

func (s queueApply) completeJobs(c applyContext, cmd *CompleteCmd) ([]Ack, error) {
	return eachLeased(s, cmd.RobotID, cmd.Items, func(d Completion) (string, uint64) { return d.JobID, d.Token },
		func(j *Job, done Completion) Ack {
			s.record(j, done.Checkpoint, done.Logs, done.LogsEnd, done.NodeStatus)
			recordDebug(j, done.Debug)
			switch {
			case done.Succeeded:
				s.finishAttempt(j, "succeeded", "", c)
				j.Result, j.Error, j.FailureKind = done.Result, "", ""
				s.setJobState(j, JobSucceeded, c)
			case done.FailureKind == FailureBusiness:
				s.finishAttempt(j, "failed", done.Error, c)
				j.Result, j.Error, j.FailureKind = done.Result, done.Error, FailureBusiness
				s.setJobState(j, JobFailed, c)
			default:
				j.FailureKind = FailureApplication
				s.retryOrFail(j, done.Error, JobFailed, s.backoff(j), c)
			}
			return Ack{JobID: j.ID, OK: true, State: j.State}
		}), nil
}

func (s queueApply) backoff(j *Job) time.Duration {
	base := cmp.Or(time.Duration(j.Run().Backoff), DefaultBackoff)
	d := base << min(max(j.Attempt-1, 0), 20)
	return min(d, MaxBackoff)
}

func (s *state) finishAttempt(j *Job, outcome, errMsg string, c applyContext) {
	if j.JobRun == nil {
		return // never claimed
	}
	if n := len(j.Attempts); n > 0 {
		a := &j.Attempts[n-1]
		a.FinishedAt, a.Outcome, a.Error = c.now, outcome, errMsg
	}
}

// retryOrFail ends the current attempt and queues the job again after
// delay, or moves it to final when it has used all its attempts. The
// checkpoint stays, so the next attempt resumes where this one stopped.
func (s queueApply) retryOrFail(j *Job, reason string, final JobState, delay time.Duration, c applyContext) {
	s.finishAttempt(j, "failed", reason, c)
	j.Error = reason
	if j.Attempt >= j.MaxAttempts {
		s.setJobState(j, final, c)
		return
	}
	j.AvoidRobot = j.RobotID
	j.Lease = nil
	j.NotBefore = c.now.Add(delay)
	s.setJobState(j, JobQueued, c)
}

// HandBackCmd returns a leaving robot's unfinished jobs to the queue. The
// attempt does not count: the robot did not fail the job, it stopped
// running it. Each item's checkpoint lets the next robot resume.
type HandBackCmd struct {
	RobotID string     `json:"robot_id"`
	Reason  string     `json:"reason"`
	Items   []Progress `json:"items"`
}

func (s queueApply) handBack(c applyContext, cmd *HandBackCmd) ([]Ack, error) {
	return eachLeased(s, cmd.RobotID, cmd.Items, func(p Progress) (string, uint64) { return p.JobID, p.Token },
		func(j *Job, p Progress) Ack {
			s.record(j, p.Checkpoint, p.Logs, p.LogsEnd, p.NodeStatus)
			s.finishAttempt(j, "handed_back", cmd.Reason, c)
			j.Attempt--
			j.AvoidRobot, j.Lease, j.NotBefore = cmd.RobotID, nil, c.now
			s.setJobState(j, JobQueued, c)
			return Ack{JobID: j.ID, OK: true, State: j.State}
		}), nil
}
