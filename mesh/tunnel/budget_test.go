package tunnel

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"
)

// A peer's calls hold at most servedFrames frames' worth of bytes read
// and not yet answered; the calls beyond wait, unread, until earlier
// ones are answered, and then are served.
func TestServedCallsHoldABoundedBudget(t *testing.T) {
	const maxFrame = 64 << 10
	entered, release := make(chan struct{}, 16), make(chan struct{})
	ts := startServer(t, func(cfg *ServerConfig) {
		cfg.MaxFrameBytes = maxFrame
		cfg.Handler = func(ctx context.Context, _ string, _ json.RawMessage) (json.RawMessage, error) {
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil, nil
		}
	})
	c := dialClient(t, ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	body := strings.Repeat("x", maxFrame-100) // each frame just under maxFrame
	const calls = servedFrames + 2
	errs := make(chan error, calls)
	var callers sync.WaitGroup
	defer callers.Wait()
	releaseAll := sync.OnceFunc(func() { close(release) })
	defer releaseAll() // before the wait for the callers, if the test fails
	for range calls {
		callers.Go(func() { errs <- c.Call(ctx, "hold", body, nil) })
	}
	for i := range servedFrames {
		select {
		case <-entered:
		case <-ctx.Done():
			t.Fatalf("only %d of %d calls reached the handler", i, servedFrames)
		}
	}
	// What is checked here is an absence, which only a window can show:
	// the last two calls' frames are on their way, and none may be
	// served while the first servedFrames hold the budget.
	select {
	case <-entered:
		t.Fatalf("a call beyond %d frames' budget was served while the first were held", servedFrames)
	case <-time.After(300 * time.Millisecond):
	}
	releaseAll()
	for range calls {
		if err := <-errs; err != nil {
			t.Fatalf("a call failed after the budget freed: %v", err)
		}
	}
}
