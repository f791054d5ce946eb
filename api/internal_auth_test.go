package api_test

import (
	"bytes"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
)

// peerAs lets a test choose who the internal endpoints see calling,
// standing in for the name and role in a verified node certificate.
type peerAs struct {
	mu   sync.Mutex
	peer *api.Peer // nil: no certificate
}

func (p *peerAs) set(peer *api.Peer) { p.mu.Lock(); p.peer = peer; p.mu.Unlock() }

func (p *peerAs) auth(*http.Request) (api.Peer, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.peer == nil {
		return api.Peer{}, errors.New("no TLS client certificate")
	}
	return *p.peer, nil
}

// TestInternalEndpointsCheckThePeer replays the attacks on the internal
// endpoints of issue 12 with the credentials each attacker could hold:
// none, a robot-only member's certificate, a server's certificate under
// another name. Every one is refused with 403 peer_refused.
func TestInternalEndpointsCheckThePeer(t *testing.T) {
	as := &peerAs{}
	n := apitest.Start(t, apitest.Config{Name: "n1", Bootstrap: true, API: func(c *api.Config) { c.PeerAuth = as.auth }})
	n.WaitLeaderKnown(t, 10*time.Second)
	claim := func(robot, kind string) response {
		return postJSON(t, n.URL+"/internal/v1/robot/claim", `{"robot_id":"`+robot+`","robot_kind":"`+kind+`","max":1}`)
	}
	refused := func(what string, r response) {
		t.Helper()
		if r.status != http.StatusForbidden || r.apiError(t).Code != api.CodePeerRefused {
			t.Errorf("%s: status %d %s, want 403 %s", what, r.status, r.body, api.CodePeerRefused)
		}
	}

	as.set(nil)
	refused("apply without a certificate", send(t, http.MethodPost, n.URL+"/internal/v1/apply", "application/octet-stream", []byte{1}))
	refused("claim without a certificate", claim("r1", "lan"))

	as.set(&api.Peer{Name: "r1"}) // a robot-only member
	refused("apply by a robot-only member", send(t, http.MethodPost, n.URL+"/internal/v1/apply", "application/octet-stream", []byte{1}))
	refused("join by a robot-only member", postJSON(t, n.URL+"/internal/v1/join", `{"name":"r1","raft_addr":"127.0.0.1:1","http_addr":"127.0.0.1:2"}`))
	refused("remove by a robot-only member", postJSON(t, n.URL+"/internal/v1/remove", `{"name":"n1"}`))
	refused("leave asked by a robot-only member", postJSON(t, n.URL+"/internal/v1/leave", ``))
	refused("claim as an internet robot", claim("r1", "internet"))
	refused("claim as another robot", claim("r2", "lan"))
	if r := claim("r1", "lan"); r.status != http.StatusOK {
		t.Errorf("claim as its own LAN robot: status %d %s, want 200", r.status, r.body)
	}

	as.set(&api.Peer{Name: "n2", Server: true})
	// A server relays an admin's leave request: the peer check lets it
	// through (this test node has no OnLeave, so it answers 503).
	if r := postJSON(t, n.URL+"/internal/v1/leave", ``); r.status != http.StatusServiceUnavailable || r.apiError(t).Code != api.CodeUnavailable {
		t.Errorf("leave relayed by a server: status %d %s, want 503 %s", r.status, r.body, api.CodeUnavailable)
	}
	refused("join under a voter's name by another server", postJSON(t, n.URL+"/internal/v1/join", `{"name":"n1","raft_addr":"127.0.0.1:1","http_addr":"127.0.0.1:2"}`))
	if r := postJSON(t, n.URL+"/internal/v1/join?log_format=new", `{"name":"n2","raft_addr":"127.0.0.1:1","http_addr":"127.0.0.1:2"}`); r.status != http.StatusBadRequest || !bytes.Contains(r.body, []byte("log_format")) {
		t.Errorf("join with a log format that is no number: status %d %s, want 400 naming log_format", r.status, r.body)
	}
	if servers, err := n.Store.Servers(); err != nil || len(servers) != 1 || servers[0].RaftAddr != n.RaftAddr {
		t.Fatalf("after the refused joins the configuration is %+v (%v), want n1 alone at its own address", servers, err)
	}
}

// TestPublicAPIHasNoInternalEndpoints: the internal endpoints are served
// on the cluster port only.
func TestPublicAPIHasNoInternalEndpoints(t *testing.T) {
	srv := api.New(api.Config{})
	for _, r := range srv.Routes() {
		if len(r) >= len("/internal/") && r[:len("/internal/")] == "/internal/" {
			t.Errorf("public route %s", r)
		}
	}
}
