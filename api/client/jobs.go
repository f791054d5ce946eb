package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/casare/casare/api/wire"
)

// SubmitJob queues one job; it returns after the Raft commit.
func (c jobService) SubmitJob(ctx context.Context, req wire.JobRequest, opts ...CallOption) (wire.Job, error) {
	return sendJSON[wire.Job](ctx, c.conn, http.MethodPost, "/api/v1/jobs", req, opts...)
}

// SubmitJobs queues up to 1000 jobs atomically, in one Raft entry.
func (c jobService) SubmitJobs(ctx context.Context, reqs []wire.JobRequest, opts ...CallOption) ([]wire.Job, error) {
	out, err := sendJSON[wire.BatchJobsResponse](ctx, c.conn, http.MethodPost, "/api/v1/jobs/batch", wire.BatchJobsRequest{Jobs: reqs}, opts...)
	return out.Jobs, err
}

// JobQuery selects a page of jobs. Zero values select everything; Cursor
// is the NextCursor of the previous page.
type JobQuery struct {
	State      string
	WorkflowID string
	// RobotID selects jobs any of whose attempts ran on that robot.
	RobotID    string
	ScheduleID string
	// CreatedAfter and CreatedBefore bound the creation time (exclusive).
	CreatedAfter  time.Time
	CreatedBefore time.Time
	Limit         int
	Cursor        string
	// Text searches the archive's full-text index of job logs and errors
	// (?q=); it needs a cluster with an archive.
	Text string
}

func (q JobQuery) values() url.Values {
	v := url.Values{}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.WorkflowID != "" {
		v.Set("workflow_id", q.WorkflowID)
	}
	if q.RobotID != "" {
		v.Set("robot_id", q.RobotID)
	}
	if q.ScheduleID != "" {
		v.Set("schedule_id", q.ScheduleID)
	}
	if !q.CreatedAfter.IsZero() {
		v.Set("created_after", q.CreatedAfter.Format(time.RFC3339Nano))
	}
	if !q.CreatedBefore.IsZero() {
		v.Set("created_before", q.CreatedBefore.Format(time.RFC3339Nano))
	}
	if q.Limit != 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.Text != "" {
		v.Set("q", q.Text)
	}
	return v
}

// Jobs returns one page of jobs, newest first.
func (c jobService) Jobs(ctx context.Context, q JobQuery, opts ...CallOption) (wire.JobList, error) {
	return callFor[wire.JobList](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/jobs", query: q.values(), opts: opts})
}

// Job returns one job.
func (c jobService) Job(ctx context.Context, id string, opts ...CallOption) (wire.Job, error) {
	return callFor[wire.Job](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/jobs/" + url.PathEscape(id), opts: opts})
}

// CancelJob cancels a queued or running job; reason may be empty.
func (c jobService) CancelJob(ctx context.Context, id, reason string, opts ...CallOption) (wire.Job, error) {
	return sendJSON[wire.Job](ctx, c.conn, http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/cancel", wire.CancelJobRequest{Reason: reason}, opts...)
}

// RerunJob queues a finished job again as a new job; latestVersion runs
// the workflow's latest version instead of the one the job ran. With an
// IdempotencyKey a retry returns the first re-run.
func (c jobService) RerunJob(ctx context.Context, id string, latestVersion bool, opts ...CallOption) (wire.Job, error) {
	return sendJSON[wire.Job](ctx, c.conn, http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/rerun",
		wire.RerunJobRequest{LatestVersion: latestVersion}, opts...)
}
