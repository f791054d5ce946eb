package tunnel

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

func TestCallBothDirections(t *testing.T) {
	ts := startServer(t)
	pushed := make(chan Identity, 1)
	robot := dialClient(t, ts.addr, func(cfg *ClientConfig) {
		cfg.Handler = func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
			if method != "job.push" {
				return nil, &RemoteError{Code: "unknown_method", Message: method}
			}
			id, _ := IdentityFrom(ctx)
			pushed <- id
			return json.RawMessage(`{"accepted":true,"job":` + string(body) + `}`), nil
		}
	})
	node := ts.nextConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// Robot → node.
	var echoed map[string]int
	if err := robot.Call(ctx, "echo", map[string]int{"x": 1}, &echoed); err != nil {
		t.Fatalf("robot→node call: %v", err)
	}
	if echoed["x"] != 1 {
		t.Fatalf("echo returned %v", echoed)
	}
	var seen Identity
	if err := robot.Call(ctx, "whoami", nil, &seen); err != nil {
		t.Fatal(err)
	}
	want := Identity{
		RobotID:  "robot-pc1",
		TokenID:  testTokenID,
		Tags:     []string{"windows", "excel"},
		Capacity: 2,
		// The robot's socket is bound to the wildcard address; the node sees
		// it on loopback.
		RemoteAddr: "127.0.0.1:" + strconv.Itoa(robot.qc.LocalAddr().(*net.UDPAddr).Port),
	}
	if !identityEqual(seen, want) {
		t.Fatalf("handler saw identity %+v, want %+v", seen, want)
	}
	if !identityEqual(robot.Identity(), want) || !identityEqual(node.Identity(), want) {
		t.Fatalf("identities differ: robot %+v, node %+v, want %+v", robot.Identity(), node.Identity(), want)
	}

	// Node → robot.
	var ack struct {
		Accepted bool   `json:"accepted"`
		Job      string `json:"job"`
	}
	if err := node.Call(ctx, "job.push", "job-7", &ack); err != nil {
		t.Fatalf("node→robot call: %v", err)
	}
	if !ack.Accepted || ack.Job != "job-7" {
		t.Fatalf("robot answered %+v", ack)
	}
	if id := <-pushed; id.RobotID != "robot-pc1" {
		t.Fatalf("robot handler saw identity %+v", id)
	}

	if conns := ts.Conns(); len(conns) != 1 || conns[0] != node {
		t.Fatalf("Conns() = %v, want the one robot", conns)
	}
}

func identityEqual(a, b Identity) bool {
	return a.RobotID == b.RobotID && a.TokenID == b.TokenID && a.Capacity == b.Capacity &&
		a.RemoteAddr == b.RemoteAddr && slices.Equal(a.Tags, b.Tags)
}

func TestCallRemoteErrors(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	node := ts.nextConn(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	tests := []struct {
		conn     *Conn
		method   string
		code     string
		contains string
	}{
		{robot, "not_found", "not_found", "no job j1"},
		{robot, "plain_error", CodeInternal, "disk on fire"},
		{robot, "panic", CodeInternal, "panicked"},
		{robot, "huge", CodeResponseTooLarge, "frame too large"},
		{robot, "no.such.method", "unknown_method", "no.such.method"},
		{node, "job.push", CodeNoHandler, "serves no calls"}, // the robot has no Handler
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			err := tt.conn.Call(ctx, tt.method, nil, nil)
			remote, ok := errors.AsType[*RemoteError](err)
			if !ok {
				t.Fatalf("Call error %v (%T) is not a *RemoteError", err, err)
			}
			if remote.Code != tt.code || !strings.Contains(remote.Message, tt.contains) {
				t.Fatalf("got %+v, want code %q and message containing %q", remote, tt.code, tt.contains)
			}
			if !strings.Contains(err.Error(), tt.method) {
				t.Errorf("error %q does not name the method", err)
			}
		})
	}
	// None of that hurt the connection.
	if err := robot.Call(ctx, "echo", "still here", nil); err != nil {
		t.Fatalf("call after errors: %v", err)
	}
	if !strings.Contains(ts.logs.String(), "handler panicked") {
		t.Error("the panic was not logged")
	}
}

func TestCallContextCancelsRemoteHandler(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := robot.Call(ctx, "wait", nil, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call = %v, want context.DeadlineExceeded", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("Call took %v to honour its context", elapsed)
	}
	select {
	case <-ts.canceled:
	case <-time.After(5 * time.Second):
		t.Fatal("the node's handler context did not end when the robot gave up")
	}
	ok, cancelOK := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelOK()
	if err := robot.Call(ok, "echo", 1, nil); err != nil {
		t.Fatalf("call after a canceled call: %v", err)
	}
}

func TestCallRequestTooLarge(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr, func(cfg *ClientConfig) { cfg.MaxFrameBytes = 1024 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	err := robot.Call(ctx, "echo", strings.Repeat("x", 2048), nil)
	if !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Call = %v, want ErrFrameTooLarge", err)
	}
	if got := ts.handled.Load(); got != 0 {
		t.Fatalf("the oversized request reached the handler (%d calls)", got)
	}
	if err := robot.Call(ctx, "echo", "small", nil); err != nil {
		t.Fatalf("connection unusable after a refused request: %v", err)
	}
}

func TestOtherALPNRefused(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tlsConf := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h3"}}
	qc, err := quic.DialAddr(ctx, ts.addr, tlsConf, nil)
	if err == nil {
		_ = qc.CloseWithError(0, "")
		t.Fatal("a client speaking h3 was accepted")
	}
	if !strings.Contains(err.Error(), "application protocol") {
		t.Fatalf("unexpected error %v", err)
	}
	if ts.connectCount.Load() != 0 || ts.handled.Load() != 0 {
		t.Fatal("an h3 client reached the application")
	}
}
