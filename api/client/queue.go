package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// QueueStats returns the queue's counts by state and priority, the age of
// its oldest queued job, its throughput and what is paused.
func (c jobService) QueueStats(ctx context.Context, opts ...CallOption) (wire.QueueStats, error) {
	return callFor[wire.QueueStats](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/queue", opts: opts})
}

// PauseQueue holds every queued job in the queue; running jobs go on.
func (c jobService) PauseQueue(ctx context.Context, opts ...CallOption) error {
	return c.call(ctx, request{method: http.MethodPost, path: "/api/v1/queue/pause", opts: opts}, nil)
}

// ResumeQueue lets queued jobs be claimed again.
func (c jobService) ResumeQueue(ctx context.Context, opts ...CallOption) error {
	return c.call(ctx, request{method: http.MethodPost, path: "/api/v1/queue/resume", opts: opts}, nil)
}

// PauseWorkflow holds one workflow's queued jobs in the queue.
func (c jobService) PauseWorkflow(ctx context.Context, workflowID string, opts ...CallOption) error {
	return c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/workflows/" + url.PathEscape(workflowID) + "/pause", opts: opts,
	}, nil)
}

// ResumeWorkflow lets one workflow's queued jobs be claimed again.
func (c jobService) ResumeWorkflow(ctx context.Context, workflowID string, opts ...CallOption) error {
	return c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/workflows/" + url.PathEscape(workflowID) + "/resume", opts: opts,
	}, nil)
}

// SetWorkflowSettings changes a workflow's queue settings; absent fields
// keep their value. It returns the settings now in force.
func (c jobService) SetWorkflowSettings(ctx context.Context, workflowID string, req wire.WorkflowSettingsRequest, opts ...CallOption) (wire.WorkflowSettings, error) {
	return sendJSON[wire.WorkflowSettings](ctx, c.conn, http.MethodPut, "/api/v1/workflows/"+url.PathEscape(workflowID)+"/settings", req, opts...)
}
