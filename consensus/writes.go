package consensus

import "context"

// PutWorkflow stores a workflow version (a new one only when the graph
// changed) and queues cmd.Jobs for it, in one Raft entry.
func (s *Store) PutWorkflow(ctx context.Context, cmd PutWorkflowCmd) (PutWorkflowResult, error) {
	return apply[PutWorkflowResult](ctx, s, cmdPutWorkflow, cmd)
}

// DeleteWorkflow removes a workflow. It refuses while the workflow has
// queued or running jobs unless force is set, which cancels them.
func (s *Store) DeleteWorkflow(ctx context.Context, id string, force bool) error {
	_, err := apply[struct{}](ctx, s, cmdDeleteWorkflow, DeleteWorkflowCmd{ID: id, Force: force})
	return err
}

// SubmitJobs queues a batch of jobs atomically: all or none. A spec whose
// id or unique key is already known returns the existing job.
func (s *Store) SubmitJobs(ctx context.Context, specs []JobSpec) ([]Job, error) {
	return apply[[]Job](ctx, s, cmdSubmitJobs, SubmitJobsCmd{Jobs: specs})
}

// CancelJob cancels a queued or running job.
func (s *Store) CancelJob(ctx context.Context, id, reason string) (Job, error) {
	return apply[Job](ctx, s, cmdCancelJob, CancelJobCmd{ID: id, Reason: reason})
}

// registerNode records a server's addresses.
func (s *Store) registerNode(ctx context.Context, n NodeInfo) error {
	_, err := apply[struct{}](ctx, s, cmdRegisterNode, RegisterNodeCmd{Node: n})
	return err
}
