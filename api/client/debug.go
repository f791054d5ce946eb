package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// JobDebug returns a debug job's session: where its run is stopped, the
// redacted variables and the call stack.
func (c jobService) JobDebug(ctx context.Context, id string, opts ...CallOption) (wire.DebugState, error) {
	return callFor[wire.DebugState](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/jobs/" + url.PathEscape(id) + "/debug", opts: opts})
}

// DebugJob sends continue, step or step_into to a paused debug run.
func (c jobService) DebugJob(ctx context.Context, id string, req wire.DebugCommandRequest, opts ...CallOption) (wire.DebugState, error) {
	return sendJSON[wire.DebugState](ctx, c.conn, http.MethodPost, "/api/v1/jobs/"+url.PathEscape(id)+"/debug", req, opts...)
}
