package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
)

// Cluster returns the leader, Raft servers and gossip members as the node
// sees them.
func (c *Client) Cluster(ctx context.Context, opts ...CallOption) (api.Cluster, error) {
	return callFor[api.Cluster](ctx, c, request{method: http.MethodGet, path: "/api/v1/cluster", opts: opts})
}

// Health is the liveness check: it fails only when the node does not
// answer.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	return callFor[api.Health](ctx, c, request{method: http.MethodGet, path: "/health"})
}

// Ready reports whether the node can serve writes (it knows a leader).
// A node that answers "not ready" is not an error.
func (c *Client) Ready(ctx context.Context) (bool, error) {
	var out api.Health
	err := c.call(ctx, request{method: http.MethodGet, path: "/health/ready"}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable && ae.Code == "" {
		return false, nil
	}
	return out.Ready, err
}

// Metrics returns the node's Prometheus metrics in text format.
func (c *Client) Metrics(ctx context.Context) ([]byte, error) {
	return c.do(ctx, request{method: http.MethodGet, path: "/metrics"})
}

// OpenAPI returns the API's OpenAPI 3.1 document.
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	return c.do(ctx, request{method: http.MethodGet, path: "/api/v1/openapi.json"})
}

// Join asks the node to add a server to the cluster; the node forwards
// the request to the leader.
func (c *Client) Join(ctx context.Context, req consensus.JoinRequest) (consensus.JoinResponse, error) {
	return sendJSON[consensus.JoinResponse](ctx, c, http.MethodPost, "/internal/v1/join", req)
}

// RemoveServer asks the cluster, through the node, to take a server that
// is gone for good out of the Raft configuration (an operator's removal:
// refused for a server that is still alive).
func (c *Client) RemoveServer(ctx context.Context, name string) (api.RemoveServerResponse, error) {
	return callFor[api.RemoveServerResponse](ctx, c, request{
		method: http.MethodDelete, path: "/api/v1/cluster/servers/" + url.PathEscape(name),
	})
}

// removeInternal forwards a removal to the leader's internal endpoint.
func (c *Client) removeInternal(ctx context.Context, req consensus.RemoveRequest) (consensus.RemoveResponse, error) {
	return sendJSON[consensus.RemoveResponse](ctx, c, http.MethodPost, "/internal/v1/remove", req)
}

// Leave asks the node to leave the cluster gracefully and stop.
func (c *Client) Leave(ctx context.Context) error {
	return c.call(ctx, request{method: http.MethodPost, path: "/internal/v1/leave"}, nil)
}
