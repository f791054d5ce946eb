package api

import (
	"encoding/json"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// The wire types live in package wire, which the Go client imports
// without linking the server. These aliases keep the server's code (and
// its tests) spelling them api.Job, api.Schedule, … as before.
type (
	LogLine                 = wire.LogLine
	JobLogs                 = wire.JobLogs
	JobLogsEnd              = wire.JobLogsEnd
	RerunJobRequest         = wire.RerunJobRequest
	WorkflowSettingsRequest = wire.WorkflowSettingsRequest
	WorkflowSettings        = wire.WorkflowSettings
	QueueStats              = wire.QueueStats
	RobotWaitResponse       = wire.RobotWaitResponse
	Robot                   = wire.Robot
	RobotHandBack           = wire.RobotHandBack
	SchedulePreview         = wire.SchedulePreview
	RobotList               = wire.RobotList
	CreateRobotTokenRequest = wire.CreateRobotTokenRequest
	CreatedRobotToken       = wire.CreatedRobotToken
	RobotToken              = wire.RobotToken
	RobotTokenList          = wire.RobotTokenList
	CreateTokenRequest      = wire.CreateTokenRequest
	APIToken                = wire.APIToken
	CreatedAPIToken         = wire.CreatedAPIToken
	APITokenList            = wire.APITokenList
	SignInRequest           = wire.SignInRequest
	WhoAmI                  = wire.WhoAmI
	SignInCode              = wire.SignInCode
	Secret                  = wire.Secret
	SecretList              = wire.SecretList
	ScheduleRequest         = wire.ScheduleRequest
	Schedule                = wire.Schedule
	ScheduleFire            = wire.ScheduleFire
	ScheduleList            = wire.ScheduleList
	TriggerScheduleResponse = wire.TriggerScheduleResponse
	CreateWorkflowRequest   = wire.CreateWorkflowRequest
	CreateWorkflowResponse  = wire.CreateWorkflowResponse
	WorkflowSummary         = wire.WorkflowSummary
	WorkflowList            = wire.WorkflowList
	Workflow                = wire.Workflow
	WorkflowVersion         = wire.WorkflowVersion
	WorkflowVersions        = wire.WorkflowVersions
	JobRequest              = wire.JobRequest
	BatchJobsRequest        = wire.BatchJobsRequest
	BatchJobsResponse       = wire.BatchJobsResponse
	CancelJobRequest        = wire.CancelJobRequest
	Job                     = wire.Job
	JobAttempt              = wire.JobAttempt
	JobList                 = wire.JobList
	Cluster                 = wire.Cluster
	ArchiveStatus           = wire.ArchiveStatus
	Leader                  = wire.Leader
	ClusterServer           = wire.ClusterServer
	ClusterMember           = wire.ClusterMember
	Health                  = wire.Health
	ReadIndexResponse       = wire.ReadIndexResponse
	RemoveServerResponse    = wire.RemoveServerResponse
	LeaveResponse           = wire.LeaveResponse
	Throughput              = wire.Throughput
	ThroughputInterval      = wire.ThroughputInterval
	ErrorResponse           = wire.ErrorResponse
	ErrorBody               = wire.ErrorBody
)

// Robot kinds and states, as in package wire.
const (
	RobotKindLAN      = wire.RobotKindLAN
	RobotKindInternet = wire.RobotKindInternet
	RobotAlive        = wire.RobotAlive
	RobotDead         = wire.RobotDead
	RobotLeft         = wire.RobotLeft
	RobotSuspect      = wire.RobotSuspect
	RobotDisconnected = wire.RobotDisconnected
)

// RobotWaitRequest is the body of POST /internal/v1/robot/wait: the claim
// the robot would make and how long to wait for work. It carries a
// replicated command, so it is not a wire type: only nodes send it.
type RobotWaitRequest struct {
	consensus.ClaimCmd
	TimeoutMS int `json:"timeout_ms"`
}

// RobotGraphResponse answers POST /internal/v1/robot/graph: a workflow
// version's graph (the request is a consensus.GraphRef).
type RobotGraphResponse struct {
	Graph json.RawMessage `json:"graph"`
}

// The designer's types.
type (
	NodeType                 = wire.NodeType
	NodeTypePort             = wire.NodeTypePort
	NodeTypeField            = wire.NodeTypeField
	NodeTypeList             = wire.NodeTypeList
	ValidateWorkflowRequest  = wire.ValidateWorkflowRequest
	ValidateWorkflowResponse = wire.ValidateWorkflowResponse
	WorkflowProblem          = wire.WorkflowProblem
)
