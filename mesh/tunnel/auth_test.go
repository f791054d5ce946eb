package tunnel

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

func TestDialRefused(t *testing.T) {
	tests := []struct {
		name       string
		tokenID    string
		secret     string
		wantErr    error
		robotSays  string // in Dial's error
		serverLogs string // in the node's log line
	}{
		{
			name: "unknown token id", tokenID: "nope", secret: testSecret,
			wantErr: ErrAuthRefused, robotSays: `unknown token id "nope"`, serverLogs: `unknown token id`,
		},
		{
			// The robot cannot tell a wrong secret from an impostor node, and
			// either way it must not send the secret.
			name: "wrong secret", tokenID: testTokenID, secret: "guess",
			wantErr: ErrServerProof, robotSays: "token secret is wrong", serverLogs: "robot rejected this node's token proof",
		},
		{
			name: "revoked token", tokenID: revokedTokenID, secret: revokedSecret,
			wantErr: ErrAuthRefused, robotSays: "token tok2 was revoked", serverLogs: "token tok2 was revoked",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := startServer(t)
			hello := testHello("pc1")
			hello.TokenID = tt.tokenID
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, ts.addr, ClientConfig{Hello: hello, TokenSecret: tt.secret})
			if err == nil {
				closeAndWait(t, c)
				t.Fatal("Dial succeeded")
			}
			t.Logf("robot: %v", err)
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.robotSays) {
				t.Fatalf("Dial error %q, want %v mentioning %q", err, tt.wantErr, tt.robotSays)
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

	// The robot refuses to dial without a token...
	for _, cfg := range []ClientConfig{
		{Hello: Hello{Name: "pc1"}, TokenSecret: testSecret},
		{Hello: testHello("pc1")},
	} {
		if _, err := Dial(ctx, ts.addr, cfg); err == nil || !strings.Contains(err.Error(), "missing robot token") {
			t.Fatalf("Dial without a full token: %v", err)
		}
	}

	// ...and a peer that speaks the handshake without one is refused.
	qc := dialRaw(t, ts.addr)
	_, err := proveRobot(ctx, qc, Hello{Name: "pc1"}, "anything")
	appErr, ok := remoteClose(err)
	if !ok || appErr.ErrorCode != codeAuthRefused || appErr.ErrorMessage != "missing token id" {
		t.Fatalf("handshake without a token id: %v", err)
	}
	waitFor(t, 5*time.Second, "the refusal in the node's log", func() bool {
		return strings.Contains(ts.logs.String(), "missing token id")
	})
	assertNoSession(t, ts)
}

// A robot that skips verifying the node's proof and sends a wrong secret is
// still refused: the node checks the secret itself.
func TestServerChecksSecret(t *testing.T) {
	ts := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	skipProof := func(secret string) error {
		qc := dialRaw(t, ts.addr)
		str, err := qc.OpenStreamSync(ctx)
		if err != nil {
			return err
		}
		if err := sendMessage(str, methodHello, testHello("pc1")); err != nil {
			return err
		}
		var proof proofMessage
		if err := receiveMessage(str, "", &proof); err != nil {
			return err
		}
		if err := sendMessage(str, methodSecret, secretMessage{Secret: secret}); err != nil {
			return err
		}
		_ = str.Close()
		var identity Identity
		return receiveMessage(str, "", &identity)
	}

	err := skipProof("guess")
	if appErr, ok := remoteClose(err); !ok || appErr.ErrorCode != codeAuthRefused || appErr.ErrorMessage != "wrong token secret" {
		t.Fatalf("wrong secret: %v", err)
	}
	waitFor(t, 5*time.Second, "the refusal in the node's log", func() bool {
		return strings.Contains(ts.logs.String(), "wrong token secret")
	})
	if n := ts.authCalls.Load(); n != 0 {
		t.Fatalf("Authenticate called %d times for a wrong secret", n)
	}
	assertNoSession(t, ts)

	// The same steps with the right secret get in, so the refusal above
	// was about the secret.
	if err := skipProof(testSecret); err != nil {
		t.Fatalf("right secret: %v", err)
	}
}

// A peer that connects but never starts the handshake is dropped.
func TestHandshakeTimeout(t *testing.T) {
	ts := startServer(t, func(cfg *ServerConfig) { cfg.HandshakeTimeout = 200 * time.Millisecond })
	qc := dialRaw(t, ts.addr)
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

func TestTokenProof(t *testing.T) {
	hash := HashSecret(testSecret)
	keyA := bytes.Repeat([]byte{0xa}, 32)
	keyB := bytes.Repeat([]byte{0xb}, 32)
	proof := tokenProof(hash, keyA)

	if !verifyTokenProof(hash, keyA, proof) {
		t.Fatal("a proof does not verify on its own session")
	}
	if verifyTokenProof(hash, keyB, proof) {
		t.Fatal("a proof made for another TLS session verified")
	}
	if verifyTokenProof(HashSecret("other"), keyA, proof) {
		t.Fatal("a proof made with another token's hash verified")
	}
	if verifyTokenProof(hash, keyA, proof[:16]) || verifyTokenProof(hash, keyA, nil) {
		t.Fatal("a truncated proof verified")
	}
}

// Two TLS sessions export different keys, and both ends of one session
// export the same key: the property the proof's binding rests on.
func TestSessionKeyIsPerSession(t *testing.T) {
	ts := startServer(t)
	a := dialClient(t, ts.addr)
	nodeA := ts.nextConn(t)
	b := dialClient(t, ts.addr)

	keyA, err := sessionKey(a.qc)
	if err != nil {
		t.Fatal(err)
	}
	keyNodeA, err := sessionKey(nodeA.qc)
	if err != nil {
		t.Fatal(err)
	}
	keyB, err := sessionKey(b.qc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(keyA, keyNodeA) {
		t.Fatal("the two ends of a session export different keys")
	}
	if bytes.Equal(keyA, keyB) {
		t.Fatal("two sessions export the same key")
	}
	hash := HashSecret(testSecret)
	if verifyTokenProof(hash, keyB, tokenProof(hash, keyA)) {
		t.Fatal("session A's proof verified on session B")
	}
}

// A man in the middle that terminates the robot's TLS session and relays
// the handshake to a real node gets a proof bound to its own session with
// the node; the robot rejects it and never sends its secret.
func TestRelayedProofRejected(t *testing.T) {
	ts := startServer(t)
	cert, err := LoadOrCreateCert(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mitm, err := quic.ListenAddr("127.0.0.1:0", serverTLSConfig(cert), quicConfig(defaultKeepAlive, defaultIdleTimeout))
	if err != nil {
		t.Fatal(err)
	}
	defer mitm.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stolen := make(chan error, 1) // nil if the secret reached the relay
	go func() { stolen <- relayHandshake(ctx, t, mitm, ts.addr) }()

	_, err = Dial(ctx, mitm.Addr().String(), ClientConfig{
		Hello:       testHello("pc1"),
		TokenSecret: testSecret,
		Logger:      slog.New(slog.DiscardHandler),
	})
	if !errors.Is(err, ErrServerProof) {
		t.Fatalf("Dial through a relay: %v, want ErrServerProof", err)
	}
	if relayErr := <-stolen; relayErr == nil {
		t.Fatal("the robot sent its secret to the relay")
	} else if appErr, ok := remoteClose(relayErr); !ok || appErr.ErrorCode != codeProofRejected {
		t.Fatalf("relay saw %v, want the robot closing with codeProofRejected", relayErr)
	}
	assertNoSession(t, ts)
}

// relayHandshake plays the man in the middle for one robot and returns the
// error it got waiting for the robot's secret.
func relayHandshake(ctx context.Context, t *testing.T, mitm *quic.Listener, nodeAddr string) error {
	robot, err := mitm.Accept(ctx)
	if err != nil {
		return err
	}
	defer robot.CloseWithError(0, "")
	fromRobot, err := robot.AcceptStream(ctx)
	if err != nil {
		return err
	}
	var hello Hello
	if err := receiveMessage(fromRobot, methodHello, &hello); err != nil {
		return err
	}

	node, err := quic.DialAddr(ctx, nodeAddr, clientTLSConfig(), quicConfig(defaultKeepAlive, defaultIdleTimeout))
	if err != nil {
		return err
	}
	defer node.CloseWithError(0, "")
	toNode, err := node.OpenStreamSync(ctx)
	if err != nil {
		return err
	}
	if err := sendMessage(toNode, methodHello, hello); err != nil {
		return err
	}
	var proof proofMessage
	if err := receiveMessage(toNode, "", &proof); err != nil {
		return err
	}
	if err := sendMessage(fromRobot, "", proof); err != nil {
		return err
	}
	var secret secretMessage
	if err := receiveMessage(fromRobot, methodSecret, &secret); err != nil {
		return err
	}
	t.Logf("relay received secret %q", secret.Secret)
	return nil
}
