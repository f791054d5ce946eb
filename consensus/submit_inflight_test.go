package consensus

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestSubmitsWaitForTheEntryInFlight: a node keeps one submit entry in
// flight, and the submits that arrive meanwhile go out together in the
// next, instead of a second entry (a log write on every node, or one
// more forward to the leader) starting at once.
func TestSubmitsWaitForTheEntryInFlight(t *testing.T) {
	sent := make(chan [][]JobSpec, 3)
	release := make(chan struct{})
	b := newSubmitBatcher(t.Context(), func(_ context.Context, groups [][]JobSpec) (submitAnswer, error) {
		sent <- groups
		<-release
		return submitAnswer{full: make([]GroupResult, len(groups))}, nil
	}, newTimings().forwardWait)
	t.Cleanup(b.close)
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before close, which waits for the entries

	done := make(chan error, 3)
	submit := func(id string) {
		_, err := b.do(t.Context(), [][]JobSpec{{{ID: id}}})
		done <- err
	}
	go submit("a")
	if got := <-sent; len(got) != 1 || got[0][0].ID != "a" {
		t.Fatalf("first entry %v", got)
	}
	go submit("b") // while a's entry is in flight
	go submit("c")
	testutil.WaitFor(t, 5*time.Second, "b and c to be held or sent", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.pending) == 2 || b.inFlight > 1
	})
	b.mu.Lock()
	inFlight := b.inFlight
	b.mu.Unlock()
	if inFlight != 1 {
		t.Fatalf("%d entries in flight, want b and c held for the next", inFlight)
	}
	free()
	if got := <-sent; len(got) != 2 {
		t.Fatalf("second entry %v, want b's and c's groups", got)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
