package tunnel

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"
)

func TestManyRobotsCallingConcurrently(t *testing.T) {
	const (
		robots        = 64
		callersPerBot = 8
		callsPerBot   = 16 // per caller
	)
	ts := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	conns := make([]*Conn, robots)
	errs := make(chan error, robots*callersPerBot)
	// quic-go refuses handshakes that complete while 32 connections wait to
	// be accepted; on a loaded machine a burst of 64 can get there, and real
	// robots retry. Dialing 16 at a time keeps this test about calls.
	dialSlots := make(chan struct{}, 16)
	var dialing sync.WaitGroup
	for i := range conns {
		dialing.Go(func() {
			dialSlots <- struct{}{}
			defer func() { <-dialSlots }()
			c, err := Dial(ctx, ts.addr, ClientConfig{
				Hello:       testHello(fmt.Sprintf("pc%d", i)),
				TokenSecret: testSecret,
				TLS:         ts.clientTLS(),
				Logger:      slog.New(slog.DiscardHandler),
			})
			if err != nil {
				errs <- fmt.Errorf("robot %d: %w", i, err)
				return
			}
			conns[i] = c
		})
	}
	dialing.Wait()
	for _, c := range conns {
		if c != nil {
			t.Cleanup(func() { closeAndWait(t, c) })
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if n := len(ts.Conns()); n != robots {
		t.Fatalf("server lists %d connections, want %d", n, robots)
	}

	start := time.Now()
	var calling sync.WaitGroup
	for i, c := range conns {
		for j := range callersPerBot {
			calling.Go(func() {
				for k := range callsPerBot {
					want := fmt.Sprintf("robot %d caller %d call %d", i, j, k)
					var got string
					if err := c.Call(ctx, "echo", want, &got); err != nil {
						errs <- fmt.Errorf("%s: %w", want, err)
						return
					}
					if got != want {
						errs <- fmt.Errorf("%s: answer was %q", want, got)
						return
					}
				}
			})
		}
	}
	calling.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	total := robots * callersPerBot * callsPerBot
	if got := ts.handled.Load(); got != int64(total) {
		t.Fatalf("handler ran %d times, want %d", got, total)
	}
	t.Logf("%d robots made %d calls in %v", robots, total, time.Since(start))
}
