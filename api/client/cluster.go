package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// Cluster returns the leader, Raft servers and gossip members as the node
// sees them.
func (c clusterService) Cluster(ctx context.Context, opts ...CallOption) (wire.Cluster, error) {
	return callFor[wire.Cluster](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/cluster", opts: opts})
}

// Health is the liveness check: it fails only when the node does not
// answer.
func (c clusterService) Health(ctx context.Context) (wire.Health, error) {
	return callFor[wire.Health](ctx, c.conn, request{method: http.MethodGet, path: "/health"})
}

// Ready reports whether the node can serve writes (it knows a leader).
// A node that answers "not ready" is not an error.
func (c clusterService) Ready(ctx context.Context) (bool, error) {
	var out wire.Health
	err := c.call(ctx, request{method: http.MethodGet, path: "/health/ready"}, &out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable && ae.Code == "" {
		return false, nil
	}
	return out.Ready, err
}

// Metrics returns the node's Prometheus metrics in text format.
func (c clusterService) Metrics(ctx context.Context) ([]byte, error) {
	return c.do(ctx, request{method: http.MethodGet, path: "/metrics"})
}

// OpenAPI returns the API's OpenAPI 3.1 document.
func (c clusterService) OpenAPI(ctx context.Context) ([]byte, error) {
	return c.do(ctx, request{method: http.MethodGet, path: "/api/v1/openapi.json"})
}

// RemoveServer asks the cluster, through the node, to take a server that
// is gone for good out of the Raft configuration (an operator's removal:
// refused for a server that is still alive).
func (c clusterService) RemoveServer(ctx context.Context, name string) (wire.RemoveServerResponse, error) {
	return callFor[wire.RemoveServerResponse](ctx, c.conn, request{
		method: http.MethodDelete, path: "/api/v1/cluster/servers/" + url.PathEscape(name),
	})
}

// Leave asks the node to leave the cluster gracefully and stop.
func (c clusterService) Leave(ctx context.Context) error {
	return c.call(ctx, request{method: http.MethodPost, path: "/internal/v1/leave"}, nil)
}
