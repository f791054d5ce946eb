package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
)

// Forwarder carries a follower's writes, read-index requests and
// membership changes to the leader over its internal endpoints. It
// implements consensus.Forwarder.
//
// Failures to reach the leader are marked with consensus.Unreachable and
// errors the leader answered with come back as *consensus.Error with
// their code, so that the store retries exactly what is retryable
// (not_leader, no_leader, an unreachable leader).
type Forwarder struct {
	http *http.Client
	// cluster makes the forwarder dial the leader's cluster port (its
	// Raft address) instead of its API address.
	cluster bool
}

var _ consensus.Forwarder = (*Forwarder)(nil)

// NewForwarder returns a Forwarder. Calls are bounded by their context
// (the store always sets a deadline), not by a client timeout, because a
// write waits for the Raft commit.
func NewForwarder(opts ...Option) *Forwarder {
	return &Forwarder{http: newHTTPClient(0, opts)}
}

// NewClusterForwarder returns a Forwarder that reaches the leader's
// internal endpoints on its cluster port through dial (mutual TLS).
func NewClusterForwarder(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Forwarder {
	return &Forwarder{http: newHTTPClient(0, []Option{WithDialer(dial)}), cluster: true}
}

func (f *Forwarder) leader(n consensus.NodeInfo) (*Client, error) {
	addr := n.HTTPAddr
	if f.cluster {
		addr = n.RaftAddr
	}
	if addr == "" {
		return nil, &consensus.Error{Code: consensus.CodeNoLeader, Message: fmt.Sprintf("leader %s has no address for internal calls", n.Name)}
	}
	c := &Client{http: f.http}
	c.base, c.baseErr = parseBaseURL(addr)
	return c, c.baseErr
}

// Apply sends an encoded command to the leader and returns the JSON of
// the value it produced.
func (f *Forwarder) Apply(ctx context.Context, leader consensus.NodeInfo, cmd []byte) ([]byte, error) {
	c, err := f.leader(leader)
	if err != nil {
		return nil, err
	}
	data, err := c.do(ctx, request{
		method: http.MethodPost, path: "/internal/v1/apply",
		body: bytes.NewReader(cmd), contentType: "application/octet-stream",
	})
	return data, forwardError(ctx, leader, err)
}

// ReadIndex asks the leader for an index covering every acknowledged
// write.
func (f *Forwarder) ReadIndex(ctx context.Context, leader consensus.NodeInfo) (uint64, error) {
	c, err := f.leader(leader)
	if err != nil {
		return 0, err
	}
	var out api.ReadIndexResponse
	err = c.call(ctx, request{method: http.MethodPost, path: "/internal/v1/readindex"}, &out)
	return out.Index, forwardError(ctx, leader, err)
}

// Join asks the leader to add a server.
func (f *Forwarder) Join(ctx context.Context, leader consensus.NodeInfo, req consensus.JoinRequest) (consensus.JoinResponse, error) {
	c, err := f.leader(leader)
	if err != nil {
		return consensus.JoinResponse{}, err
	}
	resp, err := c.Join(ctx, req)
	return resp, forwardError(ctx, leader, err)
}

// Remove asks the leader to remove a server.
func (f *Forwarder) Remove(ctx context.Context, leader consensus.NodeInfo, name string) error {
	c, err := f.leader(leader)
	if err != nil {
		return err
	}
	return forwardError(ctx, leader, c.RemoveServer(ctx, name))
}

// forwardError translates a failed forward for the store's retry logic.
func forwardError(ctx context.Context, leader consensus.NodeInfo, err error) error {
	if err == nil {
		return nil
	}
	var ae *APIError
	switch {
	case errors.As(err, &ae) && ae.Code != "":
		return &consensus.Error{Code: ae.Code, Message: ae.Message}
	case ctx.Err() != nil:
		// Our own deadline, not the leader's fault; nothing to retry.
		return fmt.Errorf("forward to leader %s: %w", leader.Name, ctx.Err())
	case errors.As(err, &ae) && ae.Status >= http.StatusInternalServerError:
		// Something between us and the leader's API answered.
		return consensus.Unreachable(fmt.Errorf("leader %s at %s: %w", leader.Name, leader.HTTPAddr, err))
	case errors.As(err, &ae):
		return fmt.Errorf("forward to leader %s: %w", leader.Name, err)
	}
	return consensus.Unreachable(fmt.Errorf("leader %s at %s: %w", leader.Name, strings.TrimSpace(leader.HTTPAddr), err))
}
