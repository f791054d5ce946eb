package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
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
	// pool is the one HTTP client every leader is called through, so a
	// leader change keeps the connections to the other servers.
	pool *client.Client
	// cluster makes the forwarder dial the leader's cluster port (its
	// Raft address) instead of its API address.
	cluster bool
}

var _ consensus.Forwarder = (*Forwarder)(nil)

// NewForwarder returns a Forwarder. Calls are bounded by their context
// (the store always sets a deadline), not by a client timeout, because a
// write waits for the Raft commit.
func NewForwarder(opts ...client.Option) *Forwarder {
	return &Forwarder{pool: client.New("", append(opts, client.WithTimeout(0))...)}
}

// NewClusterForwarder returns a Forwarder that reaches the leader's
// internal endpoints on its cluster port through dial (mutual TLS).
//
// At most maxLeaderConns connections are open to a leader; more calls
// wait for one. Without the cap, a burst (a thousand internet robots
// completing their jobs at once) opened a connection per call, and the
// leader spent itself on TLS handshakes on the port Raft's heartbeats
// share, until the followers called an election.
func NewClusterForwarder(dial func(ctx context.Context, network, addr string) (net.Conn, error)) *Forwarder {
	return &Forwarder{pool: client.New("", client.WithDialer(dial), client.WithTimeout(0), capConns), cluster: true}
}

// maxLeaderConns caps a follower's connections to the leader: as many as
// it keeps idle, so that a burst dials nothing new once they are open.
const maxLeaderConns = 64

func capConns(c *http.Client) {
	t := c.Transport.(*http.Transport)
	t.MaxConnsPerHost, t.MaxIdleConnsPerHost = maxLeaderConns, maxLeaderConns
}

func (f *Forwarder) leader(n consensus.NodeInfo) (*Client, error) {
	addr := n.HTTPAddr
	if f.cluster {
		addr = n.RaftAddr
	}
	if addr == "" {
		return nil, &consensus.Error{Code: consensus.CodeNoLeader, Message: fmt.Sprintf("leader %s has no address for internal calls", n.Name)}
	}
	return &Client{c: f.pool.At(addr)}, nil
}

// Apply sends an encoded command to the leader and returns the JSON of
// the value it produced.
func (f *Forwarder) Apply(ctx context.Context, leader consensus.NodeInfo, cmd []byte) ([]byte, error) {
	c, err := f.leader(leader)
	if err != nil {
		return nil, err
	}
	data, err := c.c.Post(ctx, "/internal/v1/apply", "application/octet-stream", bytes.NewReader(cmd))
	return data, forwardError(ctx, leader, err)
}

// ReadIndex asks the leader for an index covering every acknowledged
// write.
func (f *Forwarder) ReadIndex(ctx context.Context, leader consensus.NodeInfo) (uint64, error) {
	c, err := f.leader(leader)
	if err != nil {
		return 0, err
	}
	var out wire.ReadIndexResponse
	err = c.c.PostJSON(ctx, "/internal/v1/readindex", nil, &out)
	return out.Index, forwardError(ctx, leader, err)
}

// Join asks the leader to add a server.
func (f *Forwarder) Join(ctx context.Context, leader consensus.NodeInfo, req consensus.JoinRequest) (consensus.JoinResponse, error) {
	c, err := f.leader(leader)
	if err != nil {
		return consensus.JoinResponse{}, err
	}
	// The joiner's name is not this server's: say the join is relayed,
	// which the leader accepts from a server only.
	resp, err := c.join(ctx, req, func(r *http.Request) { r.Header.Set(wire.ForwardedJoinHeader, "1") })
	return resp, forwardError(ctx, leader, err)
}

// Remove asks the leader to remove a server.
func (f *Forwarder) Remove(ctx context.Context, leader consensus.NodeInfo, req consensus.RemoveRequest) (consensus.RemoveResponse, error) {
	c, err := f.leader(leader)
	if err != nil {
		return consensus.RemoveResponse{}, err
	}
	resp, err := c.removeInternal(ctx, req)
	return resp, forwardError(ctx, leader, err)
}

// forwardError translates a failed forward for the store's retry logic.
func forwardError(ctx context.Context, leader consensus.NodeInfo, err error) error {
	if err == nil {
		return nil
	}
	var ae *client.APIError
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

var _ consensus.VaultPusher = (*Forwarder)(nil)

// vaultKeysRequest mirrors api.VaultKeysRequest (peer does not import the
// server).
type vaultKeysRequest struct {
	Keys    consensus.VaultKeys `json:"keys"`
	Replace bool                `json:"replace"`
}

// PushVaultKeys hands a keyring to a server during a vault key rotation.
// It carries the key in clear: the internal endpoints it uses must be on
// the mutual-TLS cluster listener.
func (f *Forwarder) PushVaultKeys(ctx context.Context, server consensus.NodeInfo, keys consensus.VaultKeys, replace bool) error {
	c, err := f.leader(server) // the same addressing as a forward: the cluster port when set
	if err != nil {
		return fmt.Errorf("push vault keys to %s: %w", server.Name, err)
	}
	err = c.c.PostJSON(ctx, "/internal/v1/vault/keys", vaultKeysRequest{Keys: keys, Replace: replace}, nil)
	if err != nil {
		return fmt.Errorf("push vault keys to %s: %w", server.Name, err)
	}
	return nil
}
