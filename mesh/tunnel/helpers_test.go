package tunnel

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/casare/casare/internal/testutil"
	"github.com/casare/casare/pki"
)

// newTestIdentity makes a cluster CA and a node certificate from it, as a
// node's first start does.
func newTestIdentity(t testing.TB) *pki.Identity {
	t.Helper()
	id, err := pki.PathsIn(t.TempDir()).Bootstrap(pki.NodeRequest{Name: "node-1", Server: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// withOwnCA makes startServer's node the only node of its own cluster:
// robots of the tests' cluster do not trust it.
func withOwnCA(t testing.TB) func(*ServerConfig) {
	id := newTestIdentity(t)
	return func(cfg *ServerConfig) { cfg.TLSCert = id.Cert }
}

// testCluster is the one cluster CA most test servers share, as the nodes
// of one cluster do; robots verify them with testClusterTLS.
var testCluster struct {
	once sync.Once
	id   *pki.Identity
	err  error
}

func clusterIdentity(t testing.TB) *pki.Identity {
	t.Helper()
	testCluster.once.Do(func() {
		dir, err := os.MkdirTemp("", "tunnel-ca")
		if err != nil {
			testCluster.err = err
			return
		}
		defer os.RemoveAll(dir)
		testCluster.id, testCluster.err = pki.PathsIn(dir).Bootstrap(pki.NodeRequest{Name: "node-1", Server: true}, time.Now())
	})
	if testCluster.err != nil {
		t.Fatal(testCluster.err)
	}
	return testCluster.id
}

// testClusterTLS is what a robot holding a token of the tests' cluster
// verifies a node with.
func testClusterTLS(t testing.TB) *tls.Config {
	return pki.PinnedClientConfig(clusterIdentity(t).Fingerprint())
}

// clientTLS is what a robot holding a token of the tests' cluster
// verifies this server with.
func (ts *testServer) clientTLS() *tls.Config { return testClusterTLS(ts.t) }

const (
	testTokenID = "tok1"
	testSecret  = "s3cret_with_underscores_"
	// revokedTokenID has a valid secret but Authenticate refuses it.
	revokedTokenID = "tok2"
	revokedSecret  = "other-secret"
)

// logBuffer collects a server's log lines for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// testServer is a real Server on 127.0.0.1 with a handler that records what
// it was asked.
type testServer struct {
	*Server
	t            testing.TB
	addr         string
	logs         *logBuffer
	handled      atomic.Int64 // Handler invocations
	canceled     chan string  // methods whose ctx ended while blocked in "wait"
	connected    chan *Conn   // OnConnect
	disconnected chan error   // OnDisconnect
	served       chan error   // Serve's result
	authCalls    atomic.Int64 // Authenticate invocations
	connectCount atomic.Int64 // OnConnect invocations
	serveCancel  func()       // ends Serve's context
	closeOnce    sync.Once    // Close in cleanup and in tests
	closeErr     error        // from closeOnce
}

func startServer(t testing.TB, configure ...func(*ServerConfig)) *testServer {
	t.Helper()
	id := clusterIdentity(t)
	ts := &testServer{
		t:            t,
		logs:         &logBuffer{},
		canceled:     make(chan string, 16),
		connected:    make(chan *Conn, 256),
		disconnected: make(chan error, 256),
		served:       make(chan error, 1),
	}
	tokens := map[string][]byte{
		testTokenID:    HashSecret(testSecret),
		revokedTokenID: HashSecret(revokedSecret),
	}
	cfg := ServerConfig{
		TLSCert: id.Cert,
		TokenHash: func(id string) ([]byte, bool) {
			hash, ok := tokens[id]
			return hash, ok
		},
		Authenticate: func(_ context.Context, hello Hello) (Identity, error) {
			ts.authCalls.Add(1)
			if hello.TokenID == revokedTokenID {
				return Identity{}, errors.New("token tok2 was revoked")
			}
			return Identity{RobotID: "robot-" + hello.Name, Tags: hello.Tags, Capacity: hello.Capacity}, nil
		},
		Handler: func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
			ts.handled.Add(1)
			return ts.handle(ctx, method, body)
		},
		OnConnect: func(c *Conn) {
			ts.connectCount.Add(1)
			ts.connected <- c
		},
		OnDisconnect: func(_ *Conn, err error) { ts.disconnected <- err },
		Logger:       slog.New(slog.NewTextHandler(ts.logs, nil)),
	}
	for _, f := range configure {
		f(&cfg)
	}
	srv, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Server = srv
	ts.addr = srv.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	ts.serveCancel = cancel
	go func() { ts.served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		ts.close()
		cancel()
	})
	return ts
}

func (ts *testServer) close() error {
	ts.closeOnce.Do(func() { ts.closeErr = ts.Close() })
	return ts.closeErr
}

func (ts *testServer) handle(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
	switch method {
	case "echo":
		return body, nil
	case "whoami":
		id, ok := IdentityFrom(ctx)
		if !ok {
			return nil, errors.New("no identity in context")
		}
		return json.Marshal(id)
	case "not_found":
		return nil, fmt.Errorf("lookup job: %w", &RemoteError{Code: "not_found", Message: "no job j1"})
	case "plain_error":
		return nil, errors.New("disk on fire")
	case "panic":
		panic("handler bug")
	case "wait":
		<-ctx.Done()
		ts.canceled <- method
		return nil, ctx.Err()
	case "huge":
		return json.Marshal(strings.Repeat("x", defaultMaxFrameBytes))
	}
	return nil, &RemoteError{Code: "unknown_method", Message: method}
}

// nextConn returns the server side of the next robot that connected.
func (ts *testServer) nextConn(t testing.TB) *Conn {
	t.Helper()
	select {
	case c := <-ts.connected:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no robot connected")
		return nil
	}
}

func testHello(name string) Hello {
	return Hello{TokenID: testTokenID, Name: name, Tags: []string{"windows", "excel"}, Capacity: 2, Version: "test"}
}

// dialClient connects a robot with the valid test token; the connection is
// closed when the test ends.
func dialClient(t testing.TB, addr string, configure ...func(*ClientConfig)) *Conn {
	t.Helper()
	cfg := ClientConfig{
		Hello:       testHello("pc1"),
		TokenSecret: testSecret,
		TLS:         testClusterTLS(t),
		Logger:      slog.New(slog.DiscardHandler),
	}
	for _, f := range configure {
		f(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { closeAndWait(t, c) })
	return c
}

func closeAndWait(t testing.TB, c *Conn) {
	t.Helper()
	_ = c.Close("test done")
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Error("connection goroutines did not stop after Close")
	}
}

// dialRaw opens a QUIC connection that speaks the tunnel's TLS and QUIC
// settings but none of its handshake, for driving the protocol by hand.
func dialRaw(t testing.TB, ts *testServer) *quic.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var verifyErr error
	qc, err := quic.DialAddr(ctx, ts.addr, clientTLSConfig(ts.clientTLS(), &verifyErr), quicConfig(defaultKeepAlive, defaultIdleTimeout))
	if err != nil {
		t.Fatalf("dial raw: %v", err)
	}
	t.Cleanup(func() { _ = qc.CloseWithError(0, "") })
	return qc
}

// waitFor polls cond until it holds or timeout passes.
var waitFor = testutil.WaitFor

// waitDone waits for c to close and returns how long that took.
func waitDone(t testing.TB, c *Conn, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	select {
	case <-c.Done():
		return time.Since(start)
	case <-time.After(timeout):
		t.Fatalf("connection still open after %v", timeout)
		return 0
	}
}
