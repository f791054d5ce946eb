// Package peer is the HTTP client one node uses to call another node's
// internal endpoints (served by package api): forwarding writes and
// read-index requests to the leader (Forwarder, which consensus.Store
// uses), joining a cluster, and the queue of a robot on a robot-only node,
// which holds no replica and claims, reports and waits for work through a
// server.
//
// These calls carry replicated commands (consensus.ClaimCmd, …), so they
// live here rather than in the public client (package api/client), which
// must not link the server. Both build on the same HTTP client and error
// type (*client.APIError).
package peer

import (
	"context"
	"net/http"
	"strconv"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// callTimeout bounds one call whose context has no earlier deadline: the
// public client's bound, which covers a write waiting for its Raft commit.
const callTimeout = client.DefaultTimeout

// Client calls one node's internal endpoints. It is safe for concurrent
// use.
type Client struct {
	// c has no overall timeout, so that a long poll is bounded by its
	// context alone; every method sets a deadline.
	c *client.Client
}

// New returns a Client of the node whose API is at baseURL
// ("http://host:port"; a bare "host:port" means http).
func New(baseURL string, opts ...client.Option) *Client {
	return &Client{c: client.New(baseURL, append(opts, client.WithTimeout(0))...)}
}

// At returns a Client of the node at baseURL that shares p's connection
// pool, for a caller that talks to whichever node answers now.
func (p *Client) At(baseURL string) *Client {
	return &Client{c: p.c.At(baseURL)}
}

// Join asks the node to add a server to the cluster; the node forwards
// the request to the leader.
func (p *Client) Join(ctx context.Context, req consensus.JoinRequest) (consensus.JoinResponse, error) {
	return p.join(ctx, req)
}

func (p *Client) join(ctx context.Context, req consensus.JoinRequest, opts ...client.CallOption) (consensus.JoinResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var resp consensus.JoinResponse
	if req.LogFormat > 0 {
		opts = append(opts, withQuery("log_format", strconv.Itoa(req.LogFormat)))
	}
	err := p.c.PostJSON(ctx, "/internal/v1/join", req, &resp, opts...)
	return resp, err
}

// withQuery sets the query parameter name to value.
func withQuery(name, value string) client.CallOption {
	return func(r *http.Request) {
		q := r.URL.Query()
		q.Set(name, value)
		r.URL.RawQuery = q.Encode()
	}
}

// GetJSON fetches path from the node and decodes the JSON answer into
// out, as client.Client.GetJSON, within callTimeout.
func (p *Client) GetJSON(ctx context.Context, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return p.c.GetJSON(ctx, path, out)
}

// Cluster returns the node's view of the cluster (leader, servers,
// members) through its internal endpoint, within callTimeout.
func (p *Client) Cluster(ctx context.Context) (wire.Cluster, error) {
	var cl wire.Cluster
	err := p.GetJSON(ctx, "/internal/v1/cluster", &cl)
	return cl, err
}

// removeInternal asks the node (the leader) to remove a server from Raft
// through its internal endpoint.
func (p *Client) removeInternal(ctx context.Context, req consensus.RemoveRequest) (consensus.RemoveResponse, error) {
	return post[consensus.RemoveResponse](ctx, p, "/internal/v1/remove", req)
}
