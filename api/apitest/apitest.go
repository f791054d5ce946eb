// Package apitest runs real Casare nodes for tests: a consensus.Store on
// 127.0.0.1 with its data in a temporary directory, served by an
// api.Server through httptest, and wired to its peers by a
// peer.Forwarder, exactly as the node package wires them.
package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node/peer"

	"github.com/casare/casare/internal/testutil"
)

// Node is one running test node.
type Node struct {
	Name   string
	Store  *consensus.Store
	Server *httptest.Server
	// URL is the base URL of the node's API; Addr is its host:port.
	URL    string
	Addr   string
	Client *client.Client
	// Peer calls the node's internal endpoints, as another node does.
	Peer *peer.Client
	// RaftAddr is where the node's Raft transport listens.
	RaftAddr string
}

// Config describes a test node. Only Name is required.
type Config struct {
	Name string
	// Bootstrap starts a new single-server cluster.
	Bootstrap bool
	Logger    *slog.Logger
	// API adjusts the api.Config before the server is built.
	API func(*api.Config)
	// Store adjusts the consensus.Config before the store opens.
	Store func(*consensus.Config)
}

// Start runs a node until the test ends.
func Start(t testing.TB, cfg Config) *Node {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// The API's address must be known before the store opens, because
	// the store records it for forwarding; so listen first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen for HTTP: %v", err)
	}
	n := &Node{Name: cfg.Name, Addr: ln.Addr().String(), RaftAddr: freeAddr(t)}
	storeCfg := consensus.Config{
		Name: cfg.Name, DataDir: t.TempDir(), RaftBind: n.RaftAddr, HTTPAddr: n.Addr,
		Bootstrap: cfg.Bootstrap, Forwarder: peer.NewForwarder(), Logger: cfg.Logger,
	}
	if cfg.Store != nil {
		cfg.Store(&storeCfg)
	}
	n.Store, err = consensus.Open(storeCfg)
	if err != nil {
		ln.Close()
		t.Fatalf("open store %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() {
		if err := n.Store.Close(); err != nil {
			t.Logf("close store %s: %v", cfg.Name, err)
		}
	})
	apiCfg := api.Config{Store: n.Store, NodeName: cfg.Name, Logger: cfg.Logger, PeerAuth: trustAs(cfg.Name)}
	if cfg.API != nil {
		cfg.API(&apiCfg)
	}
	n.Server = httptest.NewUnstartedServer(withInternal(api.New(apiCfg)))
	n.Server.Listener.Close()
	n.Server.Listener = ln
	n.Server.Start()
	t.Cleanup(n.Server.Close)
	n.URL = n.Server.URL
	n.Client = client.New(n.URL, client.WithToken(AdminToken))
	n.Peer = peer.New(n.URL)
	if cfg.Bootstrap {
		n.WaitLeaderKnown(t, 10*time.Second)
		n.addAdminToken(t)
	}
	return n
}

// AdminToken is the admin API token of every test cluster: the node that
// bootstraps a cluster stores it, and every node's Client sends it. A
// fixed secret is fine in tests and lets nodes that join later use it.
const AdminToken = "casare_token_apitest-admin_dGVzdC1vbmx5LWFkbWluLXNlY3JldC1ub3QtZm9yLXVzZQ"

func (n *Node) addAdminToken(t testing.TB) {
	t.Helper()
	id, secret, err := consensus.ParseAPIToken(consensus.KindToken, AdminToken)
	if err == nil {
		_, err = n.Store.CreateAPIToken(t.Context(), consensus.CreateAPITokenCmd{
			ID: id, Name: "apitest-admin", Role: consensus.RoleAdmin, Kind: consensus.KindToken, Hash: consensus.HashToken(secret),
		})
	}
	if err != nil {
		t.Fatalf("store the admin token on %s: %v", n.Name, err)
	}
}

// NewToken stores an API token of role with a fresh secret and returns
// the string a client presents.
func (n *Node) NewToken(t testing.TB, name string, role consensus.Role) string {
	t.Helper()
	secret, err := api.NewAPISecret()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := n.Store.CreateAPIToken(t.Context(), consensus.CreateAPITokenCmd{
		ID: "test-" + consensus.HashToken(secret)[:12], Name: name, Role: role, Kind: consensus.KindToken, Hash: consensus.HashToken(secret),
	})
	if err != nil {
		t.Fatalf("create %s token: %v", role, err)
	}
	return consensus.FormatAPIToken(consensus.KindToken, tok.ID, secret)
}

// withInternal serves the internal endpoints beside the public ones. A
// node serves them only on its mutual-TLS cluster port; in-process test
// nodes share one plain-HTTP test server and forward to its URL.
func withInternal(srv *api.Server) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/internal/", srv.Internal())
	mux.Handle("/", srv)
	return mux
}

// trustAs stands in for a node's certificate check: in-process test
// nodes have no certificates and share a plain-HTTP test server, so
// every internal caller counts as a server; it is named after the node
// it joins as (for a join) or else after the node it calls, which is
// what a node's own certificate would say to itself.
func trustAs(self string) api.PeerAuth {
	return func(r *http.Request) (api.Peer, error) {
		if !strings.HasSuffix(r.URL.Path, "/join") {
			return api.Peer{Name: self, Server: true}, nil
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			return api.Peer{}, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var req consensus.JoinRequest
		_ = json.Unmarshal(body, &req) // a bad body fails in the handler, which names the field
		return api.Peer{Name: req.Name, Server: true}, nil
	}
}

// StartLeader runs a node that bootstraps its own cluster and waits
// until it leads it.
func StartLeader(t testing.TB, name string) *Node {
	t.Helper()
	n := Start(t, Config{Name: name, Bootstrap: true})
	n.WaitLeaderKnown(t, 10*time.Second)
	return n
}

// WaitLeaderKnown waits until the node knows the leader and the leader's
// API address, so that it can serve and forward writes.
func (n *Node) WaitLeaderKnown(t testing.TB, timeout time.Duration) {
	t.Helper()
	WaitFor(t, timeout, fmt.Sprintf("%s to know the leader", n.Name), func() bool {
		_, ok := n.Store.Leader()
		return ok
	})
}

// JoinRequest is what the node sends to join a cluster.
func (n *Node) JoinRequest() consensus.JoinRequest {
	return consensus.JoinRequest{Name: n.Name, RaftAddr: n.RaftAddr, HTTPAddr: n.Addr}
}

// WaitFor polls cond until it holds or the timeout passes
// (testutil.WaitFor, here for the tests that already call it so).
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, timeout, what, cond)
}

// freeAddr returns a loopback address with a port nobody listens on.
// The store cannot bind Raft to port 0: it advertises the address it was
// given, and peers cannot dial port 0. Another process may take the port
// between the check and the bind; tests accept that small risk.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// VerifyToken checks a printed robot token the way a node's QUIC gateway
// does: the secret must match the stored hash and the token must let a
// robot connect as name.
func (n *Node) VerifyToken(token, name string) error {
	id, secret, err := consensus.ParseToken(token)
	if err != nil {
		return err
	}
	stored, ok := n.Store.Token(id)
	if !ok || stored.Hash != consensus.HashToken(secret) {
		return fmt.Errorf("token %s: secret does not match the stored hash", id)
	}
	got, err := n.Store.AuthorizeRobot(id, consensus.RobotProfile{Name: name}, time.Now())
	if err == nil && got.Name != name {
		err = fmt.Errorf("token %s makes the robot %q, not %q", id, got.Name, name)
	}
	return err
}
