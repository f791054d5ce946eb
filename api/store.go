package api

import (
	"github.com/prometheus/client_golang/prometheus"

	"context"
	"encoding/json"
	"time"

	"github.com/casare/casare/consensus"
)

// What the API needs of the replicated state, by concern. Each handler
// group needs one or two of these; Store is all of them, and
// *consensus.Store implements every one.

// WorkflowStore keeps workflows and their versions.
type WorkflowStore interface {
	PutWorkflow(ctx context.Context, cmd consensus.PutWorkflowCmd) (consensus.PutWorkflowResult, error)
	DeleteWorkflow(ctx context.Context, id string, force bool) error
	Workflow(id string) (wf consensus.Workflow, found bool, index uint64)
	Workflows() (wfs []consensus.Workflow, index uint64)
}

// JobStore queues, lists, cancels and re-runs jobs, and holds the queue's
// rules (pauses, per-workflow settings) and statistics.
type JobStore interface {
	// FinishedAfter counts the finished jobs above a Raft index and
	// says when the oldest of them finished: the archive's lag.
	FinishedAfter(index uint64) (jobs int, oldest time.Time)
	SubmitJobs(ctx context.Context, specs []consensus.JobSpec) ([]consensus.Job, error)
	CancelJob(ctx context.Context, id, reason string) (consensus.Job, error)
	DebugJob(ctx context.Context, cmd consensus.DebugJobCmd) (consensus.Job, error)
	Rerun(ctx context.Context, cmd consensus.RerunCmd) (consensus.Job, error)
	Job(id string) (job consensus.Job, found bool, index uint64)
	Jobs(f consensus.JobFilter) (jobs []consensus.Job, next uint64, index uint64)
	Pause(ctx context.Context, workflowID string, paused bool) error
	SetSettings(ctx context.Context, cmd consensus.SettingsCmd) (consensus.WorkflowSettings, error)
	QueueStats(now time.Time) consensus.QueueStats
	QueuePaused() bool
	RunningJobs() map[string]consensus.Holding
}

// RobotQueue is the queue as robots use it: claims, heartbeats,
// completions and hand-backs, each fenced by its lease's token.
type RobotQueue interface {
	Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error)
	Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error)
	Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error)
	HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error)
	ReportCrash(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error)
	// WaitClaimable returns nil once a claim by cmd's robot may find a
	// job, or ctx's error.
	WaitClaimable(ctx context.Context, cmd consensus.ClaimCmd) error
	// LeaderlessFor is how long this node has known no leader; zero
	// while it has one.
	LeaderlessFor() time.Duration
	// VersionGraph returns a workflow version's graph, for a robot that
	// lacks one its claim left out.
	VersionGraph(ref consensus.GraphRef) (json.RawMessage, bool)
}

// RobotStore keeps internet robots' records and robot tokens.
type RobotStore interface {
	Robots() []consensus.RobotRecord
	Tokens() []consensus.RobotToken
	CreateToken(ctx context.Context, cmd consensus.CreateTokenCmd) (consensus.RobotToken, error)
	RevokeToken(ctx context.Context, id string) (consensus.RobotToken, error)
}

// CredentialStore keeps API tokens, browser sessions and one-time
// sign-in codes (hashes only), and checks a presented one.
type CredentialStore interface {
	Authenticate(id, secret string, now time.Time, kinds ...consensus.CredentialKind) (consensus.APIToken, error)
	HasAPIToken(id string) bool
	APITokens() []consensus.APIToken
	CreateAPIToken(ctx context.Context, cmd consensus.CreateAPITokenCmd) (consensus.APIToken, error)
	RevokeAPIToken(ctx context.Context, id string) (consensus.APIToken, error)
	RedeemCode(ctx context.Context, cmd consensus.RedeemCodeCmd) (consensus.APIToken, error)
}

// ScheduleStore keeps cron schedules.
type ScheduleStore interface {
	CreateSchedule(ctx context.Context, sc consensus.Schedule) (consensus.Schedule, error)
	EnableSchedule(ctx context.Context, id string, enabled bool) (consensus.Schedule, error)
	DeleteSchedule(ctx context.Context, id string) error
	TriggerSchedule(ctx context.Context, id, jobID string) (consensus.Fire, error)
	Schedule(id string) (sc consensus.Schedule, found bool, index uint64)
	Schedules(workflowID string) (out []consensus.Schedule, index uint64)
}

// Replica is this node's copy of the state: how far it has applied, and
// how to catch up with everything acknowledged (linearizable reads).
type Replica interface {
	AppliedIndex() uint64
	// AppliedEntries counts the command entries applied since the node
	// started, by command name.
	AppliedEntries() map[string]uint64
	// Collectors are the store's own metrics: where its writes spend
	// their time (the log's disk writes, commits, forwards).
	Collectors() []prometheus.Collector
	CatchingUp() (behind bool, applied, target uint64)
	AppliedChanged() (uint64, <-chan struct{})
	WaitConsistent(ctx context.Context) (uint64, error)
	ReadIndex(ctx context.Context) (uint64, error)
}

// ClusterStore is the Raft cluster: who leads, the servers, membership
// changes and the leader's side of forwarded writes.
type ClusterStore interface {
	Servers() ([]consensus.Server, error)
	Leader() (consensus.NodeInfo, bool)
	LeaderName() string
	RaftState() string
	Stats() map[string]string
	Join(ctx context.Context, req consensus.JoinRequest) (consensus.JoinResponse, error)
	RemoveServer(ctx context.Context, req consensus.RemoveRequest) (consensus.RemoveResponse, error)
	ApplyRaw(ctx context.Context, buf []byte) ([]byte, error)
}

// Store is everything the API needs of the replicated state.
type Store interface {
	WorkflowStore
	JobStore
	RobotQueue
	RobotStore
	CredentialStore
	ScheduleStore
	Replica
	ClusterStore
	VaultStore
	BackupStore
}

var _ Store = (*consensus.Store)(nil)
