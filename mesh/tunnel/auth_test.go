package tunnel

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/pki"
)

func TestDialRefused(t *testing.T) {
	tests := []struct {
		name       string
		tokenID    string
		secret     string
		robotSays  string // in Dial's error
		serverLogs string // in the node's log line
	}{
		// A stranger gets the same answer for an id that does not exist
		// and for one that does with a wrong secret.
		{name: "unknown token id", tokenID: "nope", secret: testSecret, robotSays: refusedToken, serverLogs: refusedToken},
		{name: "wrong secret", tokenID: testTokenID, secret: "guess", robotSays: refusedToken, serverLogs: refusedToken},
		{name: "revoked token", tokenID: revokedTokenID, secret: revokedSecret, robotSays: "token tok2 was revoked", serverLogs: "token tok2 was revoked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t)
			hello := testHello("pc1")
			hello.TokenID = tt.tokenID
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, ts.addr, ClientConfig{Hello: hello, TokenSecret: tt.secret, TLS: ts.clientTLS()})
			if err == nil {
				closeAndWait(t, c)
				t.Fatal("Dial succeeded")
			}
			t.Logf("robot: %v", err)
			if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), tt.robotSays) {
				t.Fatalf("Dial error %q, want ErrAuthRefused mentioning %q", err, tt.robotSays)
			}
			waitFor(t, 5*time.Second, "the refusal in the node's log", func() bool {
				return strings.Contains(ts.logs.String(), tt.serverLogs)
			})
			line := logLine(ts.logs.String(), tt.serverLogs)
			t.Logf("node: %s", strings.TrimSpace(line))
			if !strings.Contains(line, "robot refused") || !strings.Contains(line, "remote=127.0.0.1:") {
				t.Fatalf("log line lacks the event or the robot's address: %s", line)
			}
			assertNoSession(t, ts)
		})
	}
}

// An unknown token id and a wrong secret take the same path on the node:
// the same words, and the same catch-up before the refusal (which is
// where the time goes), so neither the answer nor its timing tells a
// stranger which token ids exist.
func TestUnknownTokenIDLooksLikeAWrongSecret(t *testing.T) {
	const catchUp = 30 * time.Millisecond
	var catchUps atomic.Int64
	ts := startServer(t, func(cfg *ServerConfig) {
		cfg.CatchUp = func(ctx context.Context) error {
			catchUps.Add(1)
			select {
			case <-time.After(catchUp):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	})
	refuse := func(tokenID, secret string) (string, time.Duration) {
		hello := testHello("pc1")
		hello.TokenID = tokenID
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := Dial(ctx, ts.addr, ClientConfig{Hello: hello, TokenSecret: secret, TLS: ts.clientTLS()})
		took := time.Since(start)
		if !errors.Is(err, ErrAuthRefused) {
			t.Fatalf("Dial with %s: %v, want a refusal", tokenID, err)
		}
		return err.Error(), took
	}
	const rounds = 5
	var unknown, wrong []time.Duration
	for range rounds {
		msgU, tookU := refuse("nope", testSecret)
		msgW, tookW := refuse(testTokenID, "guess")
		if msgU != msgW {
			t.Fatalf("unknown id answered %q, wrong secret %q", msgU, msgW)
		}
		unknown, wrong = append(unknown, tookU), append(wrong, tookW)
	}
	if n := catchUps.Load(); n != 2*rounds {
		t.Fatalf("catch-up ran %d times for %d refusals of each kind, want once per refusal", n, rounds)
	}
	slices.Sort(unknown)
	slices.Sort(wrong)
	t.Logf("median time to refusal: unknown id %v, wrong secret %v", unknown[rounds/2], wrong[rounds/2])
	for _, d := range []time.Duration{unknown[0], wrong[0]} {
		if d < catchUp {
			t.Fatalf("a refusal took %v, less than the catch-up of %v: one path skipped it", d, catchUp)
		}
	}
}

// assertNoSession checks that an unauthenticated peer reached nothing.
func assertNoSession(t *testing.T, ts *testServer) {
	t.Helper()
	if n := ts.handled.Load(); n != 0 {
		t.Errorf("Handler called %d times for an unauthenticated peer", n)
	}
	if n := ts.connectCount.Load(); n != 0 {
		t.Errorf("OnConnect called %d times for an unauthenticated peer", n)
	}
	if n := len(ts.Conns()); n != 0 {
		t.Errorf("server lists %d connections", n)
	}
}

func logLine(logs, substr string) string {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, substr) {
			return line
		}
	}
	return ""
}

func TestMissingToken(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// The robot refuses to dial without a token or without a way to
	// verify the node...
	for _, cfg := range []ClientConfig{
		{Hello: Hello{Name: "pc1"}, TokenSecret: testSecret, TLS: ts.clientTLS()},
		{Hello: testHello("pc1"), TLS: ts.clientTLS()},
	} {
		if _, err := Dial(ctx, ts.addr, cfg); err == nil || !strings.Contains(err.Error(), "missing robot token") {
			t.Fatalf("Dial without a full token: %v", err)
		}
	}
	if _, err := Dial(ctx, ts.addr, ClientConfig{Hello: testHello("pc1"), TokenSecret: testSecret}); err == nil ||
		!strings.Contains(err.Error(), "nothing would verify the node") {
		t.Fatalf("Dial without TLS: %v", err)
	}

	// ...and a peer that speaks the handshake without one is refused.
	qc := dialRaw(t, ts)
	_, err := proveRobot(ctx, qc, Hello{Name: "pc1"}, "anything")
	appErr, ok := remoteClose(err)
	if !ok || appErr.ErrorCode != codeAuthRefused || appErr.ErrorMessage != "missing robot token" {
		t.Fatalf("handshake without a token id: %v", err)
	}
	waitFor(t, 5*time.Second, "the refusal in the node's log", func() bool {
		return strings.Contains(ts.logs.String(), "missing robot token")
	})
	assertNoSession(t, ts)
}

// A peer that connects but never starts the handshake is dropped.
func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, func(cfg *ServerConfig) { cfg.HandshakeTimeout = 200 * time.Millisecond })
	qc := dialRaw(t, ts)
	select {
	case <-qc.Context().Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a silent peer was not dropped")
	}
	appErr, ok := remoteClose(context.Cause(qc.Context()))
	if !ok || appErr.ErrorCode != codeHandshakeFailed || appErr.ErrorMessage != "handshake timed out" {
		t.Fatalf("silent peer closed with %v", context.Cause(qc.Context()))
	}
	assertNoSession(t, ts)
}

// A node whose certificate comes from another cluster's CA — an impostor,
// or a relay terminating the robot's TLS — is refused by the robot during
// the TLS handshake, with an error that says so; the secret never leaves
// the robot.
func TestNodeOfAnotherCARefused(t *testing.T) {
	real := startServer(t)
	var looked atomic.Int64
	impostor := startServer(t, withOwnCA(t), func(cfg *ServerConfig) {
		lookup := cfg.TokenHash
		cfg.TokenHash = func(id string) ([]byte, bool) { looked.Add(1); return lookup(id) }
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := Dial(ctx, impostor.addr, ClientConfig{
		Hello: testHello("pc1"), TokenSecret: testSecret, TLS: real.clientTLS(), Logger: slog.New(slog.DiscardHandler),
	})
	t.Logf("robot: %v", err)
	if !errors.Is(err, ErrNodeNotTrusted) || !errors.Is(err, pki.ErrFingerprint) {
		t.Fatalf("Dial to a node of another CA: %v, want ErrNodeNotTrusted naming the fingerprint", err)
	}
	if n := looked.Load(); n != 0 {
		t.Fatalf("the impostor was asked to look up a token %d times: the robot sent its hello", n)
	}
	assertNoSession(t, impostor)

	// The same robot settings reach the real node.
	c := dialClient(t, real.addr)
	closeAndWait(t, c)
}
