package client_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// restoreNode answers PUT /api/v1/operator/snapshot with the answers it
// is given in turn (the last one for every call after them), and keeps
// the bodies it was sent. It stands for one node of a cluster whose
// leader changes at a moment a real cluster cannot be made to choose.
type restoreNode struct {
	srv     *httptest.Server
	mu      sync.Mutex
	answers []func() (int, string)
	bodies  [][]byte
	keys    []string // each call's Idempotency-Key
}

func newRestoreNode(t *testing.T, answers ...func() (int, string)) *restoreNode {
	n := &restoreNode{answers: answers}
	n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		n.mu.Lock()
		if r.Method != http.MethodPut || r.URL.Path != "/api/v1/operator/snapshot" || r.Header.Get(wire.SnapshotKeyHeader) == "" {
			body = nil // the test sees a missing body and fails
		}
		n.bodies = append(n.bodies, body)
		n.keys = append(n.keys, r.Header.Get("Idempotency-Key"))
		answer := n.answers[min(len(n.bodies), len(n.answers))-1]
		n.mu.Unlock()
		status, text := answer()
		if status == 0 {
			panic(http.ErrAbortHandler) // the node went down mid-call: no answer
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, text)
	}))
	t.Cleanup(n.srv.Close)
	return n
}

func (n *restoreNode) idempotencyKeys() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.keys
}

func (n *restoreNode) calls() [][]byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bodies
}

func apiErr(code, details string) func() (int, string) {
	return func() (int, string) {
		return http.StatusServiceUnavailable, `{"error":{"code":"` + code + `","message":"` + code + ` now","details":` + details + `}}`
	}
}

// follower names leader in every not_leader answer, as a follower does.
func follower(t *testing.T, leader *restoreNode) *restoreNode {
	return newRestoreNode(t, apiErr("not_leader", `{"leader_api":"`+strings.TrimPrefix(leader.srv.URL, "http://")+`"}`))
}

func TestRestoreFollowsTheLeaderThroughLeaderChanges(t *testing.T) {
	t.Parallel()
	leader := newRestoreNode(t,
		apiErr("not_leader", `{}`), // leadership moved away during the restore
		apiErr("no_leader", `{}`),  // an election is under way
		func() (int, string) { return http.StatusOK, `{"index":7}` },
	)
	asked := follower(t, leader)
	file := []byte("the snapshot file")
	resp, err := client.New(asked.srv.URL).RestoreSnapshot(t.Context(), "a2V5", file)
	if err != nil || resp.Index != 7 {
		t.Fatalf("restore: %+v, %v", resp, err)
	}
	// Each round asks the node first asked, which names the leader.
	if got := len(asked.calls()); got != 3 {
		t.Errorf("the node asked got %d calls, want 3", got)
	}
	for i, body := range leader.calls() {
		if !bytes.Equal(body, file) {
			t.Errorf("call %d to the leader sent %q, want the whole file", i+1, body)
		}
	}
	if got := len(leader.calls()); got != 3 {
		t.Errorf("the leader got %d calls, want 3", got)
	}
	// One restore, one key: the leader that finds it done does not redo it.
	keys := append(asked.idempotencyKeys(), leader.idempotencyKeys()...)
	if keys[0] == "" || len(slices.Compact(slices.Clone(keys))) != 1 {
		t.Errorf("the tries' Idempotency-Keys: %q, want one key on all", keys)
	}
}

func TestRestoreIsSentAgainWhenTheLeaderGoesDownMidCall(t *testing.T) {
	t.Parallel()
	leader := newRestoreNode(t,
		func() (int, string) { return 0, "" },
		func() (int, string) { return http.StatusOK, `{"index":9,"repeated":true}` },
	)
	asked := follower(t, leader)
	resp, err := client.New(asked.srv.URL).RestoreSnapshot(t.Context(), "a2V5", []byte("f"))
	if err != nil || resp.Index != 9 || !resp.Repeated {
		t.Fatalf("restore through a leader that went down mid-call: %+v, %v", resp, err)
	}
	if a, l := len(asked.calls()), len(leader.calls()); a != 2 || l != 2 {
		t.Errorf("calls: %d to the node asked and %d to the leader, want 2 and 2", a, l)
	}
}

func TestRestoreGivesUpAfterItsRounds(t *testing.T) {
	t.Parallel()
	leader := newRestoreNode(t, apiErr("not_leader", `{}`))
	asked := follower(t, leader)
	_, err := client.New(asked.srv.URL).RestoreSnapshot(t.Context(), "a2V5", []byte("f"))
	if !client.IsCode(err, "not_leader") {
		t.Fatalf("restore against a cluster that never settles: %v, want not_leader", err)
	}
	if a, l := len(asked.calls()), len(leader.calls()); a != 5 || l != 5 {
		t.Errorf("calls: %d to the node asked and %d to the leader, want 5 and 5", a, l)
	}
}

func TestRestoreStopsWaitingWithItsContext(t *testing.T) {
	t.Parallel()
	lonely := newRestoreNode(t, apiErr("no_leader", `{}`))
	// The deadline falls in the second wait (200 ms, then 400), after two
	// answers from a node on loopback.
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	_, err := client.New(lonely.srv.URL).RestoreSnapshot(ctx, "a2V5", []byte("f"))
	if !errors.Is(err, context.DeadlineExceeded) || !client.IsCode(err, "no_leader") {
		t.Fatalf("restore cut short by its context: %v, want the deadline and the last answer", err)
	}
}

func TestRestoreDoesNotRepeatARefusal(t *testing.T) {
	t.Parallel()
	n := newRestoreNode(t, func() (int, string) {
		return http.StatusBadRequest, `{"error":{"code":"invalid","message":"snapshot refused, nothing changed","details":{}}}`
	})
	if _, err := client.New(n.srv.URL).RestoreSnapshot(t.Context(), "a2V5", []byte("f")); !client.IsCode(err, "invalid") || len(n.calls()) != 1 {
		t.Fatalf("refused restore: %v after %d calls, want invalid after 1", err, len(n.calls()))
	}
}
