package consensus

import (
	"encoding/json"
	"time"
)

// JobState is where a job is in its life cycle.
type JobState string

// Job states. queued → running → succeeded | failed | cancelled | dead.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
	JobDead      JobState = "dead"
)

// Terminal reports whether a job in state s will never run again.
func (s JobState) Terminal() bool {
	switch s {
	case JobSucceeded, JobFailed, JobCancelled, JobDead:
		return true
	}
	return false
}

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

// Job is one execution request of a workflow version.
type Job struct {
	ID              string          `json:"id"`
	WorkflowID      string          `json:"workflow_id"`
	WorkflowVersion int             `json:"workflow_version"`
	Params          json.RawMessage `json:"params,omitempty"`
	Priority        int             `json:"priority"`
	ExecutionMode   string          `json:"execution_mode"`
	RobotTags       []string        `json:"robot_tags,omitempty"`
	PinnedRobot     string          `json:"pinned_robot,omitempty"`
	State           JobState        `json:"state"`
	Attempt         int             `json:"attempt"`
	MaxAttempts     int             `json:"max_attempts"`
	RobotID         string          `json:"robot_id,omitempty"`
	Lease           *Lease          `json:"lease,omitempty"`
	Attempts        []Attempt       `json:"attempts,omitempty"`
	Checkpoint      json.RawMessage `json:"checkpoint,omitempty"`
	Result          json.RawMessage `json:"result,omitempty"`
	Error           string          `json:"error,omitempty"`
	FailureKind     string          `json:"failure_kind,omitempty"`
	UniqueKey       string          `json:"unique_key,omitempty"`
	NotBefore       time.Time       `json:"not_before,omitzero"`
	Deadline        time.Time       `json:"deadline,omitzero"`
	ScheduleID      string          `json:"schedule_id,omitempty"`
	FireTime        time.Time       `json:"fire_time,omitzero"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	FinishedAt      time.Time       `json:"finished_at,omitzero"`
	// Seq orders jobs by submission; list cursors are built from it.
	Seq uint64 `json:"seq"`
}

// NodeInfo is what the cluster knows about a server's addresses. It is
// replicated so that any member can find the leader's HTTP address
// without waiting for gossip.
type NodeInfo struct {
	Name     string `json:"name"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	QUICAddr string `json:"quic_addr,omitempty"`
}
