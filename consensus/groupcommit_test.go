package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestAbandonedCallsAreDroppedOrAwaited: a caller that gives up before
// its call is taken is never sent; one whose call is already on its way
// gets the outcome when the batcher awaits sent calls (claims), so the
// jobs an entry leased reach it.
func TestAbandonedCallsAreDroppedOrAwaited(t *testing.T) {
	release := make(chan struct{})
	sent := make(chan []int, 4)
	b := &groupCommit[int, int]{
		name: "test", lifetime: context.Background(), maxInFlight: 1, awaitSent: true,
		weigh: func(int) (int, int) { return 1, 1 },
		apply: func(_ context.Context, ins []int) ([]Part[int], error) {
			sent <- ins
			<-release
			out := make([]Part[int], len(ins))
			for i, in := range ins {
				out[i].Value = in * 10
			}
			return out, nil
		},
	}
	firstCtx, giveUpFirst := context.WithCancel(context.Background())
	first := make(chan int, 1)
	go func() {
		v, err := b.do(firstCtx, 1)
		if err != nil {
			t.Errorf("a call on its way ended with %v, want its outcome", err)
		}
		first <- v
	}()
	if got := <-sent; len(got) != 1 || got[0] != 1 {
		t.Fatalf("first entry %v", got)
	}
	giveUpFirst() // its entry is in flight

	secondCtx, giveUpSecond := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, err := b.do(secondCtx, 2)
		second <- err
	}()
	testutil.WaitFor(t, 5*time.Second, "the second call to be pending", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.pending) == 1
	})
	giveUpSecond() // still pending: dropped
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Fatalf("a pending call given up: %v", err)
	}
	close(release)
	if v := <-first; v != 10 {
		t.Errorf("the first caller got %d, want 10", v)
	}
	if v, err := b.do(context.Background(), 3); err != nil || v != 30 {
		t.Fatalf("a later call: %d %v", v, err)
	}
	if got := <-sent; len(got) != 1 || got[0] != 3 {
		t.Errorf("the entry after the abandoned call carried %v, want only the later call", got)
	}
	b.close()
}

// TestInFlightLimitIsAskedPerCall: a batcher with a limit function keeps
// no more entries in flight than it says at each call, and follows it
// when it changes, as a node's submit batcher does when it becomes the
// leader (Store.submitsInFlight).
func TestInFlightLimitIsAskedPerCall(t *testing.T) {
	var limit atomic.Int32
	limit.Store(2)
	release := make(chan struct{})
	var taken atomic.Int32 // calls in entries sent
	b := &groupCommit[int, int]{
		name: "test", lifetime: context.Background(), maxInFlight: 100,
		limit: func() int { return int(limit.Load()) },
		weigh: func(int) (int, int) { return 1, 1 },
		apply: func(_ context.Context, ins []int) ([]Part[int], error) {
			taken.Add(int32(len(ins)))
			<-release
			return make([]Part[int], len(ins)), nil
		},
	}
	var calls sync.WaitGroup
	call := func(v int) {
		calls.Go(func() {
			if _, err := b.do(context.Background(), v); err != nil {
				t.Errorf("call %d: %v", v, err)
			}
		})
	}
	// queued calls v and waits until it is pending or on its way, and
	// until as many calls as want are on their way.
	queued := func(v int, want int32) {
		call(v)
		testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("call %d queued, %d calls on their way", v, want), func() bool {
			b.mu.Lock()
			defer b.mu.Unlock()
			return len(b.pending)+int(taken.Load()) == v+1 && taken.Load() == want
		})
	}
	inFlight := func() int {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.inFlight
	}
	// Each call finds the entries before it blocked in apply: the first
	// two start an entry each, the next ones wait.
	queued(0, 1)
	queued(1, 2)
	queued(2, 2)
	queued(3, 2)
	if n := inFlight(); n != 2 {
		t.Fatalf("%d entries in flight under a limit of 2", n)
	}

	limit.Store(4)
	queued(4, 5) // a third entry takes the three waiting calls
	if n := inFlight(); n != 3 {
		t.Fatalf("%d entries in flight after the limit grew to 4, want 3", n)
	}
	close(release)
	calls.Wait()
	b.close()
}
