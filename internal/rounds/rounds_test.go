package rounds

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// Concurrent waits share rounds, and every wait gets a round that started
// after it was called.
func TestGroupSharesRoundsStartedAfterEachCall(t *testing.T) {
	var g Group
	var rounds atomic.Int64
	release := make(chan struct{})
	check := func(ctx context.Context) error {
		rounds.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	// The first round holds until released, so that the others queue up.
	first := make(chan error, 1)
	go func() { first <- g.Wait(t.Context(), time.Minute, check) }()
	testutil.WaitFor(t, 10*time.Second, "the first round started", func() bool { return rounds.Load() == 1 })

	const callers = 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			errs <- g.Wait(t.Context(), time.Minute, check)
		})
	}
	testutil.WaitFor(t, 10*time.Second, "50 waits queued behind the first round", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.next != nil && g.next.joined == callers
	})
	close(release) // every later round returns at once
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// The 50 arrived while the first round ran: they share the second.
	if n := rounds.Load(); n != 2 {
		t.Fatalf("%d rounds for 51 waits, want 2", n)
	}
}

// A round is run with its own deadline, so the caller running it does not
// cut it short by giving up: the others who joined it get its answer.
func TestGroupCallerGivesUp(t *testing.T) {
	var g Group
	started := make(chan struct{})
	release := make(chan struct{})
	check := func(ctx context.Context) error {
		close(started)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- g.Wait(ctx, time.Minute, check) }()
	<-started
	cancel()
	// The runner is inside check; the round ends when released.
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the round was cut short by its runner's context: %v", err)
	}
	// The group is usable again.
	if err := g.Wait(t.Context(), time.Minute, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
}
