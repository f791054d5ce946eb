package main

import (
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
)

// TestOperatorRemoveServer removes a server through a follower with the
// CLI and checks the leader's configuration, then that an unknown name
// and a missing name are refused with a message naming the problem.
func TestOperatorRemoveServer(t *testing.T) {
	n1 := apitest.StartLeader(t, "n1")
	n2 := apitest.Start(t, apitest.Config{Name: "n2"})
	n3 := apitest.Start(t, apitest.Config{Name: "n3"})
	for _, n := range []*apitest.Node{n2, n3} {
		if _, err := n1.Peer.Join(t.Context(), n.JoinRequest()); err != nil {
			t.Fatal(err)
		}
		n.WaitLeaderKnown(t, 10*time.Second)
	}
	if err := n3.Store.Close(); err != nil {
		t.Fatal(err)
	}

	out := mustRun(t, "operator", "remove-server", "n3", "--server", n2.URL)
	if !strings.Contains(out, "removed n3; 2 voters remain") {
		t.Errorf("remove-server n3 printed %q", out)
	}
	srvs, err := n1.Store.Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range srvs {
		if s.Name == "n3" {
			t.Fatalf("n3 still in the configuration: %+v", srvs)
		}
	}

	_, _, err = runCLI(t, "operator", "remove-server", "n9", "--server", n2.URL)
	if err == nil || !strings.Contains(err.Error(), "n9 is not in the Raft configuration") {
		t.Errorf("remove-server of an unknown server: %v", err)
	}
	if _, _, err := runCLI(t, "operator", "remove-server", "--server", n2.URL); err == nil {
		t.Error("remove-server without a name succeeded")
	}
}
