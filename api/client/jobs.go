package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/casare/casare/api"
)

// SubmitJob queues one job; it returns after the Raft commit.
func (c *Client) SubmitJob(ctx context.Context, req api.JobRequest, opts ...CallOption) (api.Job, error) {
	var out api.Job
	body, err := jsonBody(req)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/jobs", body: body, contentType: "application/json", opts: opts,
	}, &out)
	return out, err
}

// SubmitJobs queues up to 1000 jobs atomically, in one Raft entry.
func (c *Client) SubmitJobs(ctx context.Context, reqs []api.JobRequest, opts ...CallOption) ([]api.Job, error) {
	var out api.BatchJobsResponse
	body, err := jsonBody(api.BatchJobsRequest{Jobs: reqs})
	if err != nil {
		return nil, err
	}
	err = c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/jobs/batch", body: body, contentType: "application/json", opts: opts,
	}, &out)
	return out.Jobs, err
}

// JobQuery selects a page of jobs. Zero values select everything; Cursor
// is the NextCursor of the previous page.
type JobQuery struct {
	State      string
	WorkflowID string
	Limit      int
	Cursor     string
}

func (q JobQuery) values() url.Values {
	v := url.Values{}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.WorkflowID != "" {
		v.Set("workflow_id", q.WorkflowID)
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	return v
}

// Jobs returns one page of jobs, newest first.
func (c *Client) Jobs(ctx context.Context, q JobQuery, opts ...CallOption) (api.JobList, error) {
	var out api.JobList
	err := c.call(ctx, request{method: http.MethodGet, path: "/api/v1/jobs", query: q.values(), opts: opts}, &out)
	return out, err
}

// Job returns one job.
func (c *Client) Job(ctx context.Context, id string, opts ...CallOption) (api.Job, error) {
	var out api.Job
	err := c.call(ctx, request{method: http.MethodGet, path: "/api/v1/jobs/" + url.PathEscape(id), opts: opts}, &out)
	return out, err
}

// CancelJob cancels a queued or running job; reason may be empty.
func (c *Client) CancelJob(ctx context.Context, id, reason string, opts ...CallOption) (api.Job, error) {
	var out api.Job
	body, err := jsonBody(api.CancelJobRequest{Reason: reason})
	if err != nil {
		return out, err
	}
	err = c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/jobs/" + url.PathEscape(id) + "/cancel",
		body: body, contentType: "application/json", opts: opts,
	}, &out)
	return out, err
}

// RerunJob queues a finished job again as a new job; latestVersion runs
// the workflow's latest version instead of the one the job ran. With an
// IdempotencyKey a retry returns the first re-run.
func (c *Client) RerunJob(ctx context.Context, id string, latestVersion bool, opts ...CallOption) (api.Job, error) {
	var out api.Job
	req, err := jsonRequest(http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/rerun",
		api.RerunJobRequest{LatestVersion: latestVersion}, opts)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, req, &out)
	return out, err
}
