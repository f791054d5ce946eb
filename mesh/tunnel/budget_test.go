package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// Large calls hold at most servedFrames frames' worth of bytes from
// their read to their answer; one more is answered busy at once, not
// left unread (which would hold QUIC's connection window and wedge the
// admitted calls), while small calls go on being served. Once the held
// calls are answered, their budget serves the next ones.
func TestLargeCallsOverTheBudgetAreAnsweredBusy(t *testing.T) {
	entered, release := make(chan struct{}, 16), make(chan struct{})
	ts := startServer(t, func(cfg *ServerConfig) {
		cfg.Handler = func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
			if method != "hold" {
				return body, nil
			}
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

	body := strings.Repeat("x", defaultMaxFrameBytes-100) // each frame just under the limit
	const calls = 2 * servedFrames
	errs := make(chan error, calls)
	var callers sync.WaitGroup
	defer callers.Wait()
	releaseAll := sync.OnceFunc(func() { close(release) })
	defer releaseAll() // before the wait for the callers, if the test fails
	for range calls {
		callers.Go(func() { errs <- c.Call(ctx, "hold", body, nil) })
	}
	for i := range calls - servedFrames {
		err := <-errs
		if re, ok := errors.AsType[*RemoteError](err); !ok || re.Code != CodeBusy {
			t.Fatalf("call %d beyond the budget: %v, want a remote error %s", i+1, err, CodeBusy)
		} else if i == 0 {
			t.Logf("beyond the budget: %s", re.Message)
		}
	}
	for i := range servedFrames {
		select {
		case <-entered:
		case <-ctx.Done():
			t.Fatalf("only %d of %d calls within the budget reached the handler", i, servedFrames)
		}
	}
	var echoed string
	if err := c.Call(ctx, "echo", "small", &echoed); err != nil || echoed != "small" {
		t.Fatalf("a small call while the budget was held: %q, %v", echoed, err)
	}
	releaseAll()
	for range servedFrames {
		if err := <-errs; err != nil {
			t.Fatalf("a call within the budget failed: %v", err)
		}
	}
	// The next call's handler returns at once, release being closed; entered has room.
	if err := c.Call(ctx, "hold", body, nil); err != nil {
		t.Fatalf("a large call after the held ones were answered: %v", err)
	}
}
