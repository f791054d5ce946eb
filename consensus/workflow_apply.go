package consensus

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// PutWorkflowCmd stores a workflow version and optionally queues jobs for
// it in the same entry, so a client never sees one without the other.
type PutWorkflowCmd struct {
	ID      string   `json:"id"` // used only when the name is new
	Name    string   `json:"name"`
	Tags    []string `json:"tags,omitempty"`
	Graph   []byte   `json:"graph"`
	Secrets []string `json:"secrets,omitempty"` // set by Store.PutWorkflow
	// SecretVariables is set by Store.PutWorkflow from the graph.
	SecretVariables []string  `json:"secret_variables,omitempty"`
	RequestID       string    `json:"request_id,omitempty"`
	Jobs            []JobSpec `json:"jobs,omitempty"`
}

// PutWorkflowResult says which version a PutWorkflowCmd produced.
type PutWorkflowResult struct {
	WorkflowID string `json:"workflow_id"`
	Version    int    `json:"version"`
	// Created is false when the graph equals the latest version's and no
	// new version was added.
	Created bool  `json:"created"`
	Jobs    []Job `json:"jobs,omitempty"`
}

func checksum(graph []byte) string {
	sum := sha256.Sum256(graph)
	return hex.EncodeToString(sum[:])
}

func (s jobsApply) putWorkflow(c applyContext, cmd *PutWorkflowCmd) (PutWorkflowResult, error) {
	if cmd.Name == "" {
		return PutWorkflowResult{}, errorf(CodeInvalid, "workflow name is empty")
	}
	if !json.Valid(cmd.Graph) {
		return PutWorkflowResult{}, errorf(CodeInvalid, "workflow graph is not valid JSON")
	}
	id, exists := s.byName[cmd.Name]
	if !exists {
		if cmd.ID == "" || s.workflows[cmd.ID] != nil {
			return PutWorkflowResult{}, errorf(CodeInvalid, "workflow id %q is empty or taken", cmd.ID)
		}
		id = cmd.ID
	}
	wf := s.workflows[id]
	sum := checksum(cmd.Graph)
	version, created := 0, false
	if wf != nil {
		for _, v := range wf.Versions {
			if cmd.RequestID != "" && v.RequestID == cmd.RequestID {
				version = v.Version // a retry of a write that already landed
			}
		}
		if version == 0 && wf.Latest().Checksum == sum {
			version = wf.Latest().Version
		}
	}
	// Check the jobs before anything changes: the entry is all or nothing.
	for i, spec := range cmd.Jobs {
		if err := checkSpecFields(&spec); err != nil {
			return PutWorkflowResult{}, errorf(CodeInvalid, "job %d: %s", i, err.Error())
		}
		if err := s.checkSpecParams(&spec, cmd.SecretVariables); err != nil {
			return PutWorkflowResult{}, err
		}
	}
	if version == 0 {
		if wf == nil {
			wf = &Workflow{ID: id, Name: cmd.Name, CreatedAt: c.now}
			s.workflows[id] = wf
			s.byName[cmd.Name] = id
		}
		version, created = len(wf.Versions)+1, true
		wf.Versions = append(wf.Versions, WorkflowVersion{
			Version: version, Graph: cmd.Graph, Checksum: sum, CreatedAt: c.now, RequestID: cmd.RequestID,
			Secrets: slices.Clone(cmd.Secrets), SecretVariables: slices.Clone(cmd.SecretVariables),
		})
		wf.UpdatedAt = c.now
	}
	if cmd.Tags != nil {
		wf.Tags = slices.Clone(cmd.Tags)
	}
	var jobs []Job
	for _, spec := range cmd.Jobs {
		spec.WorkflowID, spec.WorkflowVersion = id, version
		jobs = append(jobs, cloneJob(s.submitJob(c, spec)))
	}
	return PutWorkflowResult{WorkflowID: id, Version: version, Created: created, Jobs: jobs}, nil
}

// DeleteWorkflowCmd removes a workflow and all its versions.
type DeleteWorkflowCmd struct {
	ID    string `json:"id"`
	Force bool   `json:"force,omitempty"`
	// RequestID tells a retry of this delete from a new one.
	RequestID string `json:"request_id,omitempty"`
}

func (s jobsApply) deleteWorkflow(c applyContext, cmd *DeleteWorkflowCmd) (struct{}, error) {
	wf := s.workflows[cmd.ID]
	if wf == nil {
		if s.deletedBy("workflow/"+cmd.ID, cmd.RequestID) {
			return struct{}{}, nil
		}
		return struct{}{}, errorf(CodeNotFound, "workflow %s not found", cmd.ID)
	}
	active := s.activeJobs(cmd.ID)
	if len(active) > 0 && !cmd.Force {
		return struct{}{}, errorf(CodeConflict, "workflow %s has %d queued or running jobs; cancel them or delete with force=true", cmd.ID, len(active))
	}
	var schedules []string
	for id, sc := range s.schedules {
		if sc.WorkflowID == cmd.ID {
			schedules = append(schedules, id)
		}
	}
	if len(schedules) > 0 && !cmd.Force {
		return struct{}{}, errorf(CodeConflict, "workflow %s has %d schedules; delete them or delete with force=true", cmd.ID, len(schedules))
	}
	for _, id := range schedules {
		delete(s.schedules, id)
	}
	for _, j := range active {
		s.cancel(j, "workflow deleted", c)
	}
	delete(s.byName, wf.Name)
	delete(s.workflows, cmd.ID)
	s.recordDeletion(c, "workflow/"+cmd.ID, cmd.RequestID)
	return struct{}{}, nil
}
