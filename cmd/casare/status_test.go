package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
)

// TestStatusWaitsBrieflyForALeader: `casare status` on a node that has
// just joined, before it has heard from the leader, waits for the leader
// instead of printing "Leader: none known" and term 0.
func TestStatusWaitsBrieflyForALeader(t *testing.T) {
	n1 := apitest.StartLeader(t, "n1")
	n2 := apitest.Start(t, apitest.Config{Name: "n2"})
	// The join comes a moment after status has asked, as when status
	// follows the README's joins at once.
	joined := make(chan error, 1)
	time.AfterFunc(300*time.Millisecond, func() {
		_, err := n1.Peer.Join(t.Context(), n2.JoinRequest())
		joined <- err
	})
	start := time.Now()
	out := mustRun(t, "status", "--server", n2.URL)
	took := time.Since(start)
	if err := <-joined; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Leader:         n1") || regexp.MustCompile(`term 0\b`).MatchString(out) {
		t.Fatalf("status after %v:\n%s", took, out)
	}
	t.Logf("status waited %v for the leader", took.Round(time.Millisecond))

	// With no leader to come, status gives up after --wait and says so:
	// such a node cannot even check the credential.
	lonely := apitest.Start(t, apitest.Config{Name: "n3"})
	start = time.Now()
	_, _, err := runCLI(t, "status", "--wait", "500ms", "--server", lonely.URL)
	if took := time.Since(start); err == nil || !strings.Contains(err.Error(), "knows no leader") || took < 500*time.Millisecond || took > 10*time.Second {
		t.Fatalf("status on a node without leader, after %v: %v", took, err)
	}
}
