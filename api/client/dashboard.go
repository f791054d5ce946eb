package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// DrainRobot drains a robot (drained) so that it finishes what it runs
// and claims nothing more, or lets it claim again. Admin only;
// idempotent.
func (c robotService) DrainRobot(ctx context.Context, id string, drained bool, opts ...CallOption) (wire.Robot, error) {
	action := "undrain"
	if drained {
		action = "drain"
	}
	return callFor[wire.Robot](ctx, c.conn, request{method: http.MethodPost, path: "/api/v1/robots/" + url.PathEscape(id) + "/" + action, opts: opts})
}

// HandBackRobot returns every job the robot runs to the queue (from its
// last checkpoint, no attempt spent) and drains it. Admin only.
func (c robotService) HandBackRobot(ctx context.Context, id string, opts ...CallOption) (wire.RobotHandBack, error) {
	return callFor[wire.RobotHandBack](ctx, c.conn, request{method: http.MethodPost, path: "/api/v1/robots/" + url.PathEscape(id) + "/handback", opts: opts})
}

// PreviewSchedule returns the next five fire times of a cron expression
// in a time zone ("" is UTC), as the scheduler computes them.
func (c scheduleService) PreviewSchedule(ctx context.Context, cron, timezone string, opts ...CallOption) (wire.SchedulePreview, error) {
	q := url.Values{"cron": {cron}}
	if timezone != "" {
		q.Set("timezone", timezone)
	}
	return callFor[wire.SchedulePreview](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/schedules/preview", query: q, opts: opts})
}
