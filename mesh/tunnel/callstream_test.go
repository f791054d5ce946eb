package tunnel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"
)

// idleCallStreams is how many streams c keeps for later calls; -1 when
// it opens a stream per call.
func idleCallStreams(c *Conn) int {
	if c.streams == nil {
		return -1
	}
	c.streams.mu.Lock()
	defer c.streams.mu.Unlock()
	return len(c.streams.idle)
}

// callEcho calls "echo" with v and fails the test unless v comes back.
func callEcho(t *testing.T, c *Conn, v int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got int
	if err := c.Call(ctx, "echo", v, &got); err != nil {
		t.Fatalf("echo %d: %v", v, err)
	}
	if got != v {
		t.Fatalf("echo %d came back as %d", v, got)
	}
}

func TestSequentialCallsShareOneStream(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	for i := range 20 {
		callEcho(t, robot, i)
		if n := idleCallStreams(robot); n != 1 {
			t.Fatalf("after call %d the robot keeps %d streams, want the one its calls share", i, n)
		}
	}
}

func TestCanceledCallDoesNotSpoilItsStream(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	callEcho(t, robot, 1)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := robot.Call(ctx, "wait", nil, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want context.DeadlineExceeded", err)
	}
	select {
	case <-ts.canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the node's handler context did not end when the robot gave up")
	}
	if n := idleCallStreams(robot); n != 0 {
		t.Fatalf("the robot kept %d streams after its only one was reset", n)
	}
	for i := range 3 {
		callEcho(t, robot, i)
	}
	if n := idleCallStreams(robot); n != 1 {
		t.Fatalf("the robot keeps %d streams, want 1", n)
	}
}

// A burst of calls opens a stream each; the robot keeps a few for later
// and resets the rest, which the node must take as the end of those
// streams, not of the connection.
func TestBurstOfCallsKeepsFewStreams(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	const burst = 4 * maxIdleCallStreams
	for round := range 3 {
		var wg sync.WaitGroup
		errs := make(chan error, burst)
		for i := range burst {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				var got int
				if err := robot.Call(ctx, "echo", i, &got); err != nil || got != i {
					errs <- errors.Join(err, errors.New("wrong answer"))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
		if n := idleCallStreams(robot); n < 1 || n > maxIdleCallStreams {
			t.Fatalf("round %d: the robot keeps %d streams, want 1 to %d", round, n, maxIdleCallStreams)
		}
	}
	select {
	case <-robot.Done():
		t.Fatalf("the connection closed: %v", robot.Err())
	default:
	}
}

// A node that predates call streams offers none: the robot opens a
// stream per call, which that node serves. Sending it a call stream
// would have it close the connection (data after the frame).
func TestRobotCallsANodeWithoutCallStreams(t *testing.T) {
	ts := startServer(t, func(cfg *ServerConfig) { cfg.oneCallPerStream = true })
	robot := dialClient(t, ts.addr)
	for i := range 5 {
		callEcho(t, robot, i)
	}
	if n := idleCallStreams(robot); n != -1 {
		t.Fatalf("the robot keeps %d call streams for a node that offered none", n)
	}
	select {
	case <-robot.Done():
		t.Fatalf("the connection closed: %v", robot.Err())
	default:
	}
}

// A robot that predates call streams opens a stream per call, and a node
// that offers them serves those as before.
func TestNodeServesARobotWithoutCallStreams(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr, func(cfg *ClientConfig) { cfg.oneCallPerStream = true })
	for i := range 5 {
		callEcho(t, robot, i)
	}
	if n := idleCallStreams(robot); n != -1 {
		t.Fatalf("a robot without call streams keeps %d", n)
	}
}

// An older robot decodes the welcome as the Identity alone: the offer of
// call streams must not change what it reads.
func TestWelcomeReadsAsIdentityForOlderRobots(t *testing.T) {
	id := Identity{RobotID: "robot-pc1", TokenID: "tok", Tags: []string{"excel"}, Capacity: 2, RemoteAddr: "10.0.0.1:4242"}
	body, err := json.Marshal(welcomeMessage{Identity: id, CallStreams: true})
	if err != nil {
		t.Fatal(err)
	}
	var old Identity
	if err := json.Unmarshal(body, &old); err != nil {
		t.Fatalf("an older robot cannot read %s: %v", body, err)
	}
	if !identityEqual(old, id) {
		t.Fatalf("an older robot reads %+v from %s, want %+v", old, body, id)
	}
	var w welcomeMessage
	if err := json.Unmarshal(body, &w); err != nil || !w.CallStreams || !identityEqual(w.Identity, id) {
		t.Fatalf("welcome %s read back as %+v, %v", body, w, err)
	}
}

// A handler's context ends when its call is answered, though the call
// stream it came on is kept for the next call.
func TestCallContextEndsWithTheCall(t *testing.T) {
	kept := make(chan context.Context, 1)
	ts := startServer(t, func(cfg *ServerConfig) {
		next := cfg.Handler
		cfg.Handler = func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
			if method == "keep" {
				kept <- ctx
				return body, nil
			}
			return next(ctx, method, body)
		}
	})
	robot := dialClient(t, ts.addr)
	if err := robot.Call(t.Context(), "keep", 1, nil); err != nil {
		t.Fatal(err)
	}
	ctx := <-kept
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the handler's context outlived its call")
	}
	if n := idleCallStreams(robot); n != 1 {
		t.Fatalf("the robot keeps %d streams, want the one its call used", n)
	}
	callEcho(t, robot, 2)
}

// Calls that fail on the node's side (an error, a panic, an answer too
// large to send, an unknown method) still end with one answer, so their
// stream carries the next call, and its answer is that call's.
func TestFailedCallsKeepTheirStream(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	for i, method := range []string{"plain_error", "not_found", "panic", "huge", "no_such_method"} {
		var re *RemoteError
		if err := robot.Call(t.Context(), method, nil, nil); !errors.As(err, &re) {
			t.Fatalf("%s: Call = %v, want a RemoteError", method, err)
		}
		if n := idleCallStreams(robot); n != 1 {
			t.Fatalf("after %s the robot keeps %d streams, want 1", method, n)
		}
		callEcho(t, robot, i)
	}
}

// A call stream cannot open another inside itself: the frame that opens
// one is never a call a handler would be asked.
func TestCallStreamOpeningInsideACallStreamIsRefused(t *testing.T) {
	_, err := readStreamRequest(bytes.NewReader(callStreamOpening), defaultMaxFrameBytes, readBudget{})
	var ce *closeError
	if !errors.As(err, &ce) || ce.code != codeMalformedFrame {
		t.Fatalf("readStreamRequest = %v, want a malformed-frame violation", err)
	}
}
