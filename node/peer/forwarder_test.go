package peer_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node/peer"
)

func TestForwarderErrors(t *testing.T) {
	ctx := t.Context()
	f := peer.NewForwarder()

	// A node that is not the leader refuses with not_leader, which the
	// store must see as a *consensus.Error to retry elsewhere.
	follower := apitest.Start(t, apitest.Config{Name: "n2"})
	info := consensus.NodeInfo{Name: "n2", HTTPAddr: follower.Addr}
	noop := make([]byte, 9) // a valid no-op envelope: type 21, no payload
	noop[0] = 21
	_, err := f.Apply(ctx, info, noop)
	if consensus.ErrorCode(err) != consensus.CodeNotLeader {
		t.Errorf("Apply on a follower: %v, want code not_leader", err)
	}

	if _, err := f.ReadIndex(ctx, info); consensus.ErrorCode(err) != consensus.CodeNotLeader {
		t.Errorf("ReadIndex on a follower: %v, want code not_leader", err)
	}

	// Nobody listens: the leader is unreachable.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	_, err = f.ReadIndex(ctx, consensus.NodeInfo{Name: "gone", HTTPAddr: closed})
	var opErr *net.OpError
	if !errors.As(err, &opErr) || !strings.HasPrefix(err.Error(), "leader unreachable") {
		t.Errorf("ReadIndex on a closed port: %v, want an unreachable leader", err)
	}

	// A proxy answering for a dead leader is unreachable too.
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer proxy.Close()
	_, err = f.Remove(ctx, consensus.NodeInfo{Name: "p", HTTPAddr: proxy.Listener.Addr().String()}, consensus.RemoveRequest{Name: "x"})
	if err == nil || !strings.HasPrefix(err.Error(), "leader unreachable") {
		t.Errorf("Remove through a failing proxy: %v, want an unreachable leader", err)
	}

	// No address registered yet: no leader to talk to.
	if _, err := f.Join(ctx, consensus.NodeInfo{Name: "n1"}, consensus.JoinRequest{}); consensus.ErrorCode(err) != consensus.CodeNoLeader {
		t.Errorf("Join without leader address: %v, want code no_leader", err)
	}
}

func TestForwarderJoinAndReadIndex(t *testing.T) {
	ctx := t.Context()
	leader := apitest.StartLeader(t, "n1")
	joiner := apitest.Start(t, apitest.Config{Name: "n2"})
	f := peer.NewForwarder()
	info := consensus.NodeInfo{Name: "n1", HTTPAddr: leader.Addr}

	resp, err := f.Join(ctx, info, joiner.JoinRequest())
	if err != nil || resp.Leader != "n1" {
		t.Fatalf("Join: %+v, %v", resp, err)
	}
	index, err := f.ReadIndex(ctx, info)
	if err != nil || index < leader.Store.AppliedIndex() {
		t.Errorf("ReadIndex: %d (leader applied %d), %v", index, leader.Store.AppliedIndex(), err)
	}
	if _, err := f.Remove(ctx, info, consensus.RemoveRequest{Name: "n2"}); err != nil {
		t.Errorf("Remove: %v", err)
	}
	servers, _ := leader.Store.Servers()
	if len(servers) != 1 {
		t.Errorf("servers after remove: %+v", servers)
	}
}
