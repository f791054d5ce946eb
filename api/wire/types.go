package wire

import (
	"encoding/json"
	"time"
)

// Wire types of workflows, jobs, the cluster, health and errors.

// CreateWorkflowRequest is the body of POST /api/v1/workflows.
type CreateWorkflowRequest struct {
	WorkflowName string          `json:"workflow_name"`
	WorkflowJSON json.RawMessage `json:"workflow_json"`
	Tags         []string        `json:"tags,omitempty"`
	// TriggerType is "manual" (queue a job now, the default), "scheduled"
	// (create a schedule from Cron and the fields after it) or "none".
	TriggerType   string          `json:"trigger_type,omitempty"`
	ExecutionMode string          `json:"execution_mode,omitempty"`
	Priority      *int            `json:"priority,omitempty"`
	Params        json.RawMessage `json:"params,omitempty"`
	MaxAttempts   *int            `json:"max_attempts,omitempty"`
	UniqueKey     string          `json:"unique_key,omitempty"`
	RobotTags     []string        `json:"robot_tags,omitempty"`
	// The job options below exist only for trigger_type manual; they
	// mean what they mean in JobRequest.
	PinnedRobot string `json:"pinned_robot,omitempty"`
	Backoff     string `json:"backoff,omitempty"`
	NotBefore   string `json:"not_before,omitempty"`
	Deadline    string `json:"deadline,omitempty"`
	// The schedule of a scheduled trigger, as in ScheduleRequest.
	Cron          string `json:"cron,omitempty"`
	Timezone      string `json:"timezone,omitempty"`
	Misfire       string `json:"misfire,omitempty"`
	CatchupWindow string `json:"catchup_window,omitempty"`
	Overlap       string `json:"overlap,omitempty"`
}

// CreateWorkflowResponse says what POST /api/v1/workflows stored.
type CreateWorkflowResponse struct {
	WorkflowID string `json:"workflow_id"`
	Version    int    `json:"version"`
	// Created is false when the graph equalled the latest version's, so
	// no new version was added.
	Created    bool   `json:"created"`
	JobID      string `json:"job_id,omitempty"`
	ScheduleID string `json:"schedule_id,omitempty"`
}

// WorkflowSummary is one entry of the workflow list.
type WorkflowSummary struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	LatestVersion int       `json:"latest_version"`
	Tags          []string  `json:"tags"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// WorkflowList is the body of GET /api/v1/workflows.
type WorkflowList struct {
	Workflows    []WorkflowSummary `json:"workflows"`
	AppliedIndex uint64            `json:"applied_index"`
}

// Workflow is the body of GET /api/v1/workflows/{id}: the summary and
// the latest version's graph.
type Workflow struct {
	WorkflowSummary
	Checksum string           `json:"checksum"`
	Graph    json.RawMessage  `json:"graph"`
	Settings WorkflowSettings `json:"settings"`
}

// WorkflowVersion is one immutable revision of a workflow.
type WorkflowVersion struct {
	Version   int             `json:"version"`
	Checksum  string          `json:"checksum"`
	CreatedAt time.Time       `json:"created_at"`
	Graph     json.RawMessage `json:"graph"`
}

// WorkflowVersions is the body of GET /api/v1/workflows/{id}/versions.
type WorkflowVersions struct {
	WorkflowID   string            `json:"workflow_id"`
	Versions     []WorkflowVersion `json:"versions"`
	AppliedIndex uint64            `json:"applied_index"`
}

// JobRequest asks for one job: the body of POST /api/v1/jobs and an
// element of a batch.
type JobRequest struct {
	WorkflowID string `json:"workflow_id"`
	// WorkflowVersion 0 means the latest version at commit time.
	WorkflowVersion int             `json:"workflow_version,omitempty"`
	Params          json.RawMessage `json:"params,omitempty"`
	Priority        *int            `json:"priority,omitempty"`
	ExecutionMode   string          `json:"execution_mode,omitempty"`
	RobotTags       []string        `json:"robot_tags,omitempty"`
	PinnedRobot     string          `json:"pinned_robot,omitempty"`
	UniqueKey       string          `json:"unique_key,omitempty"`
	MaxAttempts     *int            `json:"max_attempts,omitempty"`
	// Backoff is the first retry delay of an application failure, as a
	// duration like "2s"; it doubles with every attempt.
	Backoff string `json:"backoff,omitempty"`
	// NotBefore and Deadline are RFC 3339 timestamps.
	NotBefore string `json:"not_before,omitempty"`
	Deadline  string `json:"deadline,omitempty"`
	// Debug, when present, makes the job a debug session.
	Debug *DebugRequest `json:"debug,omitempty"`
}

// BatchJobsRequest is the body of POST /api/v1/jobs/batch.
type BatchJobsRequest struct {
	Jobs []JobRequest `json:"jobs"`
}

// BatchJobsResponse is the answer to POST /api/v1/jobs/batch, in request
// order.
type BatchJobsResponse struct {
	Jobs []Job `json:"jobs"`
}

// CancelJobRequest is the optional body of POST /api/v1/jobs/{id}/cancel.
type CancelJobRequest struct {
	Reason string `json:"reason,omitempty"`
}

// Job is a job as the API shows it. Internal bookkeeping of the queue
// (lease tokens, sequence numbers) stays out of it. Lists leave out
// Checkpoint and LastLogs, which can be large.
type Job struct {
	ID              string          `json:"id"`
	WorkflowID      string          `json:"workflow_id"`
	WorkflowVersion int             `json:"workflow_version"`
	State           string          `json:"state"`
	Priority        int             `json:"priority"`
	ExecutionMode   string          `json:"execution_mode"`
	Attempt         int             `json:"attempt"`
	MaxAttempts     int             `json:"max_attempts"`
	RobotID         string          `json:"robot_id"`
	RobotTags       []string        `json:"robot_tags,omitempty"`
	PinnedRobot     string          `json:"pinned_robot,omitempty"`
	Params          json.RawMessage `json:"params"`
	Result          json.RawMessage `json:"result,omitempty"`
	Error           string          `json:"error,omitempty"`
	FailureKind     string          `json:"failure_kind,omitempty"`
	UniqueKey       string          `json:"unique_key,omitempty"`
	Backoff         string          `json:"backoff,omitempty"`
	LeaseExpiresAt  time.Time       `json:"lease_expires_at,omitzero"`
	Attempts        []JobAttempt    `json:"attempts,omitempty"`
	NotBefore       time.Time       `json:"not_before,omitzero"`
	Deadline        time.Time       `json:"deadline,omitzero"`
	// Late is true when the deadline has passed and the job has not
	// finished.
	Late bool `json:"late"`
	// WaitingReason says why a queued job has not been claimed ("queue
	// paused", "no robot named X", "not before …"), computed when the
	// job is read from the robots and flags of the moment. Only GET
	// /api/v1/jobs/{id} fills it.
	WaitingReason string          `json:"waiting_reason,omitempty"`
	Checkpoint    json.RawMessage `json:"checkpoint,omitempty"`
	// LastLogs are the newest lines Raft keeps of the job's log.
	LastLogs   []LogLine `json:"last_logs,omitempty"`
	ScheduleID string    `json:"schedule_id,omitempty"`
	FireTime   time.Time `json:"fire_time,omitzero"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	StartedAt  time.Time `json:"started_at,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	RerunOf    string    `json:"rerun_of,omitempty"`
	// NodeStatus is the status of each workflow node in the current
	// attempt, by node id.
	NodeStatus map[string]string `json:"node_status,omitempty"`
	// Source says where the answer came from: "raft" (the replicated
	// state) or "archive" (Postgres, for a job Raft no longer holds or a
	// search).
	Source string `json:"source"`
}

// JobAttempt records one try at running a job.
type JobAttempt struct {
	Attempt    int       `json:"attempt"`
	RobotID    string    `json:"robot_id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at,omitzero"`
	// Outcome is how the attempt ended: "succeeded", "failed" or
	// "handed_back"; empty while it runs.
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
}

// JobList is the body of GET /api/v1/jobs. NextCursor is nil on the last
// page.
type JobList struct {
	Jobs         []Job   `json:"jobs"`
	NextCursor   *string `json:"next_cursor"`
	AppliedIndex uint64  `json:"applied_index"`
}

// Cluster is the body of GET /api/v1/cluster.
type Cluster struct {
	Node         string          `json:"node"`
	Leader       *Leader         `json:"leader"`
	Servers      []ClusterServer `json:"servers"`
	Members      []ClusterMember `json:"members"`
	AppliedIndex uint64          `json:"applied_index"`
	RaftState    string          `json:"raft_state"`
	Term         uint64          `json:"term"`
	// NotMember is true while this node is outside the Raft
	// configuration and rejoining; its data endpoints then answer 503
	// not_member.
	NotMember bool `json:"not_member,omitempty"`
	// Archive is the Postgres archive's progress; absent without one.
	Archive *ArchiveStatus `json:"archive,omitempty"`
}

// ArchiveStatus says how far the archive has caught up with Raft.
type ArchiveStatus struct {
	// ArchivedIndex is the Raft index up to which every finished job is
	// in the archive.
	ArchivedIndex uint64 `json:"archived_index"`
	// Lag is AppliedIndex minus ArchivedIndex: entries not yet covered.
	Lag uint64 `json:"lag"`
	// LagJobs is the finished jobs in Raft the archive does not hold yet.
	LagJobs int `json:"lag_jobs"`
	// LagSeconds is how long ago the oldest of them finished (0 for none).
	LagSeconds float64 `json:"lag_seconds"`
	// Error says why the archive could not be read, when it could not.
	Error string `json:"error,omitempty"`
}

// Leader names the Raft leader and where its API is.
type Leader struct {
	Name     string `json:"name"`
	HTTPAddr string `json:"http_addr"`
}

// ClusterServer is one member of the Raft configuration. Alive is what
// gossip says of it.
type ClusterServer struct {
	Name     string `json:"name"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	Voter    bool   `json:"voter"`
	Alive    bool   `json:"alive"`
	Leader   bool   `json:"leader"`
}

// ClusterMember is one gossip member.
type ClusterMember struct {
	Name     string   `json:"name"`
	State    string   `json:"state"`
	Roles    []string `json:"roles"`
	HTTPAddr string   `json:"http_addr"`
	Tags     []string `json:"tags,omitempty"`
	Capacity int      `json:"capacity,omitempty"`
}

// Health is the body of GET /health.
type Health struct {
	// Status is "ok" when the process serves requests; with ?ready=1 it
	// is "unavailable" until the node knows a leader.
	Status    string  `json:"status"`
	Ready     bool    `json:"ready"`
	Leader    *Leader `json:"leader"`
	Node      string  `json:"node"`
	RaftState string  `json:"raft_state"`
	// NotMember is true while this server is outside the Raft
	// configuration and rejoining; it is then not ready.
	NotMember bool `json:"not_member,omitempty"`
	// CatchingUp is true while a restarted node applies what it held
	// before the restart; it is not ready meanwhile.
	CatchingUp bool `json:"catching_up,omitempty"`
	// Starting is true while the node finishes starting (the server
	// that bootstrapped the cluster stores the admin token of its data
	// dir, at every start); it is not ready meanwhile, so a CLI run once
	// the node is ready finds the token it reads valid.
	Starting bool `json:"starting,omitempty"`
}

// ReadIndexResponse is the body of POST /internal/v1/readindex.
type ReadIndexResponse struct {
	Index uint64 `json:"index"`
}

// RemoveServerResponse is the answer of DELETE
// /api/v1/cluster/servers/{name}: what the removal changed.
type RemoveServerResponse struct {
	Removed  string `json:"removed"`
	Promoted string `json:"promoted,omitempty"` // the non-voter promoted to keep the voter count
	Voters   int    `json:"voters"`             // voters left in the configuration
}

// LeaveResponse is the answer to POST /internal/v1/leave.
type LeaveResponse struct {
	Node   string `json:"node"`
	Status string `json:"status"`
}

// ErrorResponse is the body of every error.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody says what went wrong. Code is stable and meant for programs;
// Message is for people; Details, always an object, carries what a
// program needs to act (the offending field, validation problems, …).
type ErrorBody struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Details json.RawMessage `json:"details"`
}

// ForwardedJoinHeader marks a join that a server relays to the leader on
// behalf of the joiner it checked (internal endpoints only).
const ForwardedJoinHeader = "X-Casare-Relayed-Join"
