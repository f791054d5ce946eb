package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// Robots lists the fleet: LAN robots from gossip and internet robots from
// Raft, with the jobs each holds.
func (c robotService) Robots(ctx context.Context, opts ...CallOption) (wire.RobotList, error) {
	return callFor[wire.RobotList](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/robots", opts: opts})
}

// CreateRobotToken makes a robot token bound to the robot called name
// (empty: any robot). The answer holds the token; it is never shown
// again.
func (c robotService) CreateRobotToken(ctx context.Context, name string, opts ...CallOption) (wire.CreatedRobotToken, error) {
	return c.CreateRobotTokenFor(ctx, wire.CreateRobotTokenRequest{Name: name}, opts...)
}

// CreateRobotTokenFor makes a robot token that may fix the robot's name,
// tags and capacity and may expire (see wire.CreateRobotTokenRequest).
func (c robotService) CreateRobotTokenFor(ctx context.Context, req wire.CreateRobotTokenRequest, opts ...CallOption) (wire.CreatedRobotToken, error) {
	return sendJSON[wire.CreatedRobotToken](ctx, c.conn, http.MethodPost, "/api/v1/robots/tokens", req, opts...)
}

// RobotTokens lists robot tokens, without secrets.
func (c robotService) RobotTokens(ctx context.Context, opts ...CallOption) (wire.RobotTokenList, error) {
	return callFor[wire.RobotTokenList](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/robots/tokens", opts: opts})
}

// RevokeRobotToken revokes a robot token; robots using it are refused
// from then on.
func (c robotService) RevokeRobotToken(ctx context.Context, id string, opts ...CallOption) (wire.RobotToken, error) {
	return callFor[wire.RobotToken](ctx, c.conn, request{method: http.MethodDelete, path: "/api/v1/robots/tokens/" + url.PathEscape(id), opts: opts})
}
