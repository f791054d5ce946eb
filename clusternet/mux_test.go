package clusternet_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/pki"
)

func identity(t *testing.T, name string) *pki.Identity {
	t.Helper()
	id, err := pki.PathsIn(t.TempDir()).Bootstrap(pki.NodeRequest{Name: name, Server: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func listen(t *testing.T, id *pki.Identity) *clusternet.Mux {
	t.Helper()
	m, err := clusternet.Listen("127.0.0.1:0", "", id.ServerConfig(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	for _, k := range []clusternet.Kind{clusternet.KindRaft, clusternet.KindHTTP, clusternet.KindJoin} {
		m.Listener(k) // served, as a node serves every kind
	}
	return m
}

// accepted reports whether a connection of kind reaches the listener of
// that kind: it sends one byte after the kind and waits for it there.
func accepted(t *testing.T, m *clusternet.Mux, k clusternet.Kind, conn net.Conn) bool {
	t.Helper()
	got := make(chan bool, 1)
	go func() {
		c, err := m.Listener(k).Accept()
		if err != nil {
			got <- false
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		_, err = io.ReadFull(c, b[:])
		got <- err == nil && b[0] == 'x'
	}()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	conn.Write([]byte("x"))
	select {
	case ok := <-got:
		return ok
	case <-time.After(3 * time.Second):
		// Refused: the mux closed the connection and handed nothing on.
		return false
	}
}

func TestNodeOfTheClusterReachesEveryKind(t *testing.T) {
	id := identity(t, "n1")
	m := listen(t, id)
	for _, k := range []clusternet.Kind{clusternet.KindRaft, clusternet.KindHTTP, clusternet.KindJoin} {
		conn, err := clusternet.Dial(context.Background(), m.Addr().String(), k, id.ClientConfig())
		if err != nil {
			t.Fatalf("dial kind %c: %v", k, err)
		}
		if !accepted(t, m, k, conn) {
			t.Fatalf("kind %c: a node of the cluster was refused", k)
		}
		conn.Close()
	}
}

func TestPlainTCPIsRefused(t *testing.T) {
	m := listen(t, identity(t, "n1"))
	conn, err := net.Dial("tcp", m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// What hashicorp/raft's plain TCP transport sends first: its RPC type
	// byte (0, AppendEntries), then a msgpack map.
	conn.Write(append([]byte{0, 0x8a, 0xa4}, []byte("Term\x01RPCHeader\x81")...))
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a plain TCP peer's connection was held open instead of closed")
		}
	}
	go func() { time.Sleep(time.Second); m.Close() }()
	if c, err := m.Listener(clusternet.KindRaft).Accept(); err == nil {
		c.Close()
		t.Fatal("a plain TCP connection reached Raft")
	}
}

func TestCertificateFromAnotherCAIsRefused(t *testing.T) {
	m := listen(t, identity(t, "n1"))
	stranger := identity(t, "n1") // same name, another cluster's CA
	for _, k := range []clusternet.Kind{clusternet.KindRaft, clusternet.KindHTTP} {
		conn, err := clusternet.Dial(context.Background(), m.Addr().String(), k, stranger.ClientConfig())
		if err == nil && accepted(t, m, k, conn) {
			t.Fatalf("kind %c: a certificate from another CA was accepted", k)
		}
		if conn != nil {
			conn.Close()
		}
	}
}

func TestNoClientCertificateReachesOnlyTheJoinExchange(t *testing.T) {
	id := identity(t, "n1")
	m := listen(t, id)
	for _, k := range []clusternet.Kind{clusternet.KindRaft, clusternet.KindHTTP, clusternet.KindJoin} {
		conn, err := clusternet.Dial(context.Background(), m.Addr().String(), k, pki.PinnedClientConfig(id.Fingerprint()))
		if err != nil {
			t.Fatalf("dial kind %c: %v", k, err)
		}
		if got, want := accepted(t, m, k, conn), k == clusternet.KindJoin; got != want {
			t.Fatalf("kind %c without a client certificate: accepted %v, want %v", k, got, want)
		}
		conn.Close()
	}
}

func TestUnknownKindIsRefused(t *testing.T) {
	id := identity(t, "n1")
	m := listen(t, id)
	conn, err := clusternet.Dial(context.Background(), m.Addr().String(), clusternet.Kind('Z'), id.ClientConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("a connection of an unknown kind got an answer")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a connection of an unknown kind was held open instead of closed")
	}
}
