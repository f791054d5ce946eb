package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// CreateSchedule creates a cron schedule of a workflow. A bad cron
// expression or time zone is refused before anything is stored.
func (c scheduleService) CreateSchedule(ctx context.Context, req wire.ScheduleRequest, opts ...CallOption) (wire.Schedule, error) {
	return sendJSON[wire.Schedule](ctx, c.conn, http.MethodPost, "/api/v1/schedules", req, opts...)
}

// Schedules lists schedules, of one workflow when workflowID is set,
// without their history.
func (c scheduleService) Schedules(ctx context.Context, workflowID string, opts ...CallOption) (wire.ScheduleList, error) {
	var out wire.ScheduleList
	query := url.Values{}
	if workflowID != "" {
		query.Set("workflow_id", workflowID)
	}
	err := c.call(ctx, request{method: http.MethodGet, path: "/api/v1/schedules", query: query, opts: opts}, &out)
	return out, err
}

// Schedule returns one schedule with its next run and fire history.
func (c scheduleService) Schedule(ctx context.Context, id string, opts ...CallOption) (wire.Schedule, error) {
	return callFor[wire.Schedule](ctx, c.conn, request{method: http.MethodGet, path: schedulePath(id), opts: opts})
}

// EnableSchedule enables a schedule; it fires from now on.
func (c scheduleService) EnableSchedule(ctx context.Context, id string, opts ...CallOption) (wire.Schedule, error) {
	return callFor[wire.Schedule](ctx, c.conn, request{method: http.MethodPut, path: schedulePath(id) + "/enable", opts: opts})
}

// DisableSchedule disables a schedule.
func (c scheduleService) DisableSchedule(ctx context.Context, id string, opts ...CallOption) (wire.Schedule, error) {
	return callFor[wire.Schedule](ctx, c.conn, request{method: http.MethodPut, path: schedulePath(id) + "/disable", opts: opts})
}

// TriggerSchedule queues one job of the schedule now. With an
// IdempotencyKey a retry queues no second job.
func (c scheduleService) TriggerSchedule(ctx context.Context, id string, opts ...CallOption) (wire.TriggerScheduleResponse, error) {
	return callFor[wire.TriggerScheduleResponse](ctx, c.conn, request{method: http.MethodPut, path: schedulePath(id) + "/trigger", opts: opts})
}

// DeleteSchedule deletes a schedule; the jobs it made stay.
func (c scheduleService) DeleteSchedule(ctx context.Context, id string, opts ...CallOption) error {
	return c.call(ctx, request{method: http.MethodDelete, path: schedulePath(id), opts: opts}, nil)
}

func schedulePath(id string) string { return "/api/v1/schedules/" + url.PathEscape(id) }
