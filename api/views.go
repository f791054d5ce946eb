package api

import (
	"encoding/json"

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
	return Workflow{WorkflowSummary: workflowSummary(wf), Checksum: latest.Checksum, Graph: latest.Graph}
}

func workflowVersion(v consensus.WorkflowVersion) WorkflowVersion {
	return WorkflowVersion{Version: v.Version, Checksum: v.Checksum, CreatedAt: v.CreatedAt, Graph: v.Graph}
}

// emptyParams is what a job without parameters shows: an empty object,
// so clients can always index into params.
var emptyParams = json.RawMessage(`{}`)

func jobView(j consensus.Job) Job {
	v := Job{
		ID: j.ID, WorkflowID: j.WorkflowID, WorkflowVersion: j.WorkflowVersion,
		State: string(j.State), Priority: j.Priority, ExecutionMode: j.ExecutionMode,
		Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, RobotID: j.RobotID,
		RobotTags: j.RobotTags, PinnedRobot: j.PinnedRobot, Params: j.Params,
		Result: j.Result, Error: j.Error, FailureKind: j.FailureKind, UniqueKey: j.UniqueKey,
		NotBefore: j.NotBefore, Deadline: j.Deadline, ScheduleID: j.ScheduleID, FireTime: j.FireTime,
		NodeStatus: j.NodeStatus, RerunOf: j.RerunOf,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
	}
	if isAbsent(v.Params) {
		v.Params = emptyParams
	}
	if j.Lease != nil {
		v.LeaseExpiresAt = j.Lease.ExpiresAt
	}
	for _, a := range j.Attempts {
		v.Attempts = append(v.Attempts, JobAttempt{
			Attempt: a.Attempt, RobotID: a.RobotID, StartedAt: a.StartedAt,
			FinishedAt: a.FinishedAt, Outcome: a.Outcome, Error: a.Error,
		})
	}
	return v
}

func jobViews(jobs []consensus.Job) []Job {
	out := make([]Job, len(jobs))
	for i, j := range jobs {
		out[i] = jobView(j)
	}
	return out
}
