package consensus

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/casare/casare/api/wire"
)

// JobState is where a job is in its life cycle.
type JobState string

// Job states. queued → running → succeeded | failed | cancelled | dead.
const (
	JobQueued    JobState = wire.JobQueued
	JobRunning   JobState = wire.JobRunning
	JobSucceeded JobState = wire.JobSucceeded
	JobFailed    JobState = wire.JobFailed
	JobCancelled JobState = wire.JobCancelled
	JobDead      JobState = wire.JobDead
)

// Terminal reports whether a job in state s will never run again.
func (s JobState) Terminal() bool { return wire.JobTerminal(string(s)) }

// Valid reports whether s names a known state.
func (s JobState) Valid() bool { return s == JobQueued || s == JobRunning || s.Terminal() }

// Execution modes select which robots may run a job.
const (
	ModeLAN      = "lan"
	ModeInternet = "internet"
	ModeAny      = "any"
)

// ValidMode reports whether m is a known execution mode.
func ValidMode(m string) bool { return m == ModeLAN || m == ModeInternet || m == ModeAny }

// Workflow is a named automation with immutable versions.
type Workflow struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	Tags      []string          `json:"tags,omitempty"`
	Versions  []WorkflowVersion `json:"versions"`
	CreatedAt time.Time         `json:"created_at"`
	UpdatedAt time.Time         `json:"updated_at"`
	Settings  WorkflowSettings  `json:"settings"`
}

// WorkflowSettings are the queue rules for one workflow's jobs.
type WorkflowSettings struct {
	// MaxConcurrency caps how many of its jobs run at once; 0 = no cap.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// VisibilityTimeout is the lease a claim grants; 0 = the default.
	VisibilityTimeout Duration `json:"visibility_timeout,omitempty"`
	// Paused holds its queued jobs in the queue.
	Paused bool `json:"paused,omitempty"`
}

// Latest returns the newest version of w.
func (w *Workflow) Latest() WorkflowVersion { return w.Versions[len(w.Versions)-1] }

// Version returns version v of w, if it exists.
func (w *Workflow) Version(v int) (WorkflowVersion, bool) {
	if v < 1 || v > len(w.Versions) {
		return WorkflowVersion{}, false
	}
	return w.Versions[v-1], true
}

// WorkflowVersion is one immutable revision of a workflow graph.
type WorkflowVersion struct {
	Version   int             `json:"version"`
	Graph     json.RawMessage `json:"graph"`
	Checksum  string          `json:"checksum"`
	CreatedAt time.Time       `json:"created_at"`
	// Secrets names the vault secrets the graph references with
	// secret("NAME"), found when it was saved.
	Secrets []string `json:"secrets,omitempty"`
	// SecretVariables are the graph's secret_variables: the API shows
	// job parameters of these names as ***.
	SecretVariables []string `json:"secret_variables,omitempty"`
	// RequestID makes a retried PutWorkflow return the version it made
	// the first time instead of adding another.
	RequestID string `json:"request_id,omitempty"`
}

// Lease is a robot's time-limited right to run a job attempt. Token is
// the Raft index of the claim that granted it; reports carrying any other
// token are stale and refused.
type Lease struct {
	RobotID   string    `json:"robot_id"`
	Token     uint64    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	// RenewedAt is the leader's time at the claim or the last accepted
	// heartbeat: a robot holding jobs heartbeats every second, so a stale
	// one is suspect before its lease runs out.
	RenewedAt time.Time `json:"renewed_at,omitzero"`
	// LogsEnd is how many of its lines, numbered from 0 for this lease,
	// the lease's robot has had recorded (Progress.LogsEnd): a resent
	// line numbered below it is already in the job's log. It counts in
	// the robot's numbering, so trimming the log to its window or for the
	// archive (LogsDropped) leaves it as it is. 0 until a robot that
	// numbers its lines reports some.
	LogsEnd int `json:"logs_end,omitempty"`
}

// Attempt records one try at running a job.
type Attempt struct {
	Attempt    int       `json:"attempt"`
	RobotID    string    `json:"robot_id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	Outcome    string    `json:"outcome,omitempty"`
	Error      string    `json:"error,omitempty"`
}

// Job is one execution request of a workflow version. The fields a job
// only has once it has been claimed or has finished, and the rare submit
// options, live in JobRun, which stays nil while a job submitted without
// them waits in the queue: a million queued jobs would otherwise carry
// some 300 bytes each of zero values.
type Job struct {
	ID              string          `json:"id"`
	WorkflowID      string          `json:"workflow_id"`
	WorkflowVersion int             `json:"workflow_version"`
	Params          json.RawMessage `json:"params,omitempty"`
	// SealedParams holds the values of the params the workflow declares
	// in secret_variables, which Params shows as "***" (vault_params.go).
	SealedParams  *SealedParams `json:"sealed_params,omitempty"`
	Priority      int           `json:"priority"`
	ExecutionMode string        `json:"execution_mode"`
	RobotTags     []string      `json:"robot_tags,omitempty"`
	PinnedRobot   string        `json:"pinned_robot,omitempty"`
	State         JobState      `json:"state"`
	Attempt       int           `json:"attempt"`
	MaxAttempts   int           `json:"max_attempts"`
	UniqueKey     string        `json:"unique_key,omitempty"`
	NotBefore     time.Time     `json:"not_before,omitzero"`
	Deadline      time.Time     `json:"deadline,omitzero"`
	ScheduleID    string        `json:"schedule_id,omitempty"`
	FireTime      time.Time     `json:"fire_time,omitzero"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	// Seq orders jobs by submission; list cursors are built from it.
	Seq uint64 `json:"seq"`
	// gen is the state's snapshot generation when this copy of the job
	// was made: a copy older than the newest snapshot view may be read by
	// that view's writer, so applies change a fresh copy (state.mutableJob).
	gen uint64
	// JobRun is embedded so that encoding/json reads and writes its
	// fields inline, as they were before they moved out of Job: every
	// one of them is omitted when empty, so a nil JobRun and an empty
	// one read back the same. Read its fields through Run() or after
	// checking JobRun != nil; write them through run() (jobrun.go).
	*JobRun
}

// JobRun is what a job gains once a robot claims it or it finishes, and
// the few submit options most jobs go without (Backoff, Debug, RerunOf).
type JobRun struct {
	RobotID     string          `json:"robot_id,omitempty"`
	Lease       *Lease          `json:"lease,omitempty"`
	Attempts    []Attempt       `json:"attempts,omitempty"`
	Checkpoint  json.RawMessage `json:"checkpoint,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	FailureKind string          `json:"failure_kind,omitempty"`
	// Crashes counts the attempts whose run killed their robot's process;
	// at MaxCrashes the job is dead.
	Crashes    int       `json:"crashes,omitempty"`
	Backoff    Duration  `json:"backoff,omitempty"`
	AvoidRobot string    `json:"avoid_robot,omitempty"`
	Logs       []LogLine `json:"logs,omitempty"`
	// LogsDropped counts the first lines of the log Raft no longer
	// keeps: Logs[i] is line LogsDropped+i (from 0) of the whole log.
	LogsDropped int `json:"logs_dropped,omitempty"`
	// LogsArchived counts the first lines of the log the archive holds
	// (archive_logs.go); 0 without an archive.
	LogsArchived int               `json:"logs_archived,omitempty"`
	NodeStatus   map[string]string `json:"node_status,omitempty"`
	StartedAt    time.Time         `json:"started_at,omitzero"`
	FinishedAt   time.Time         `json:"finished_at,omitzero"`
	// FinishedIndex is the Raft index of the entry that finished the job
	// (0 while it runs): the archive's position is kept in these terms.
	FinishedIndex uint64 `json:"finished_index,omitempty"`
	// Debug is the job's debug session (debug.go), nil for other jobs.
	Debug *JobDebug `json:"debug,omitempty"`
	// RobotLosses counts requeues because the robot running the job was
	// declared dead or cut off; they spend no attempt (see maxRobotLosses).
	RobotLosses int `json:"robot_losses,omitempty"`
	// RerunOf names the job this one re-runs.
	RerunOf string `json:"rerun_of,omitempty"`
}

// NodeInfo is what the cluster knows about a server's addresses. It is
// replicated so that any member can find the leader's HTTP address
// without waiting for gossip.
type NodeInfo struct {
	Name     string `json:"name"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	QUICAddr string `json:"quic_addr,omitempty"`
	// GossipAddr is where the server's gossip listens; a node retries it
	// when gossip has forgotten the server (see mesh.Reconnect).
	GossipAddr string `json:"gossip_addr,omitempty"`
	// LogFormat is the newest log format the server's build applies (see
	// LogFormat); 0 for a build from before compressed entries, or one
	// that has not rejoined since it was upgraded.
	LogFormat int `json:"log_format,omitempty"`
}

// LogLine is one line a job's run logged. Raft keeps the last
// MaxJobLogLines of each job; the archive keeps them all.
type LogLine struct {
	Time    time.Time `json:"time"`
	Level   string    `json:"level"`
	NodeID  string    `json:"node_id,omitempty"`
	Message string    `json:"message"`
}

// Duration is a time.Duration that reads and writes JSON as "1m30s".
type Duration time.Duration

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n int64
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("duration must be a string like \"30s\": %w", err)
		}
		*d = Duration(n)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
