package gatewayproto

import (
	"encoding/json"

	"github.com/casare/casare/consensus"
)

// WorkJob is what a robot reads of a claimed job, for a robot that asks
// for it (ClaimRequest.Compact) in place of the whole consensus.Job. The
// whole job carries the leader's bookkeeping (its state, priority, seq,
// five timestamps, the history of its attempts), which a robot never
// reads: two claimed no-op jobs and two acks came to 1,423 bytes, so a
// two-slot robot's every answer took two QUIC packets and an
// acknowledgement of its own; as WorkJobs they take one packet.
//
// A field the robot starts to read of a claimed job goes here too, and
// into WorkJobOf and Claimed: TestWorkJobCarriesWhatRobotsRead fails for
// a field of this type that either leaves out.
type WorkJob struct {
	ID              string                  `json:"id"`
	WorkflowID      string                  `json:"workflow_id"`
	WorkflowVersion int                     `json:"workflow_version"`
	Params          json.RawMessage         `json:"params,omitempty"`
	Attempt         int                     `json:"attempt"`
	Token           uint64                  `json:"token"`
	Checkpoint      json.RawMessage         `json:"checkpoint,omitempty"`
	Debug           *consensus.DebugOptions `json:"debug,omitempty"`
	Graph           json.RawMessage         `json:"graph,omitempty"`
	Secrets         map[string]string       `json:"secrets,omitempty"`
	SecretError     string                  `json:"secret_error,omitempty"`
	SecretErrorKind string                  `json:"secret_error_kind,omitempty"`
}

// WorkJobOf returns what a robot reads of c.
func WorkJobOf(c consensus.ClaimedJob) WorkJob {
	w := WorkJob{
		ID: c.Job.ID, WorkflowID: c.Job.WorkflowID, WorkflowVersion: c.Job.WorkflowVersion, Params: c.Job.Params, Attempt: c.Job.Attempt,
		Graph: c.Graph, Secrets: c.Secrets, SecretError: c.SecretError, SecretErrorKind: c.SecretErrorKind,
	}
	if run := c.Job.JobRun; run != nil {
		w.Checkpoint = run.Checkpoint
		if run.Debug != nil {
			// The robot reads the options; a paused stop's report and
			// the newest command reach it in heartbeat acks.
			w.Debug = &run.Debug.Options
		}
		if run.Lease != nil {
			w.Token = run.Lease.Token
		}
	}
	return w
}

// Claimed returns w as the claimed job the robot runs: the fields w
// carries, the rest zero.
func (w WorkJob) Claimed() consensus.ClaimedJob {
	run := &consensus.JobRun{Lease: &consensus.Lease{Token: w.Token}, Checkpoint: w.Checkpoint}
	if w.Debug != nil {
		run.Debug = &consensus.JobDebug{Options: *w.Debug}
	}
	return consensus.ClaimedJob{
		Job: consensus.Job{
			ID: w.ID, WorkflowID: w.WorkflowID, WorkflowVersion: w.WorkflowVersion, Params: w.Params, Attempt: w.Attempt,
			State: consensus.JobRunning, JobRun: run,
		},
		Graph: w.Graph, Secrets: w.Secrets, SecretError: w.SecretError, SecretErrorKind: w.SecretErrorKind,
	}
}
