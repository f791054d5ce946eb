package consensus

import (
	"context"
	"errors"
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
		name: "test", lifetime: context.Background(), maxInFlight: 1, awaitSent: func(int) bool { return true },
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
