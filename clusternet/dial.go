package clusternet

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/raft"
)

// Dial opens a connection of kind k to the cluster port at addr.
func Dial(ctx context.Context, addr string, k Kind, conf *tls.Config) (net.Conn, error) {
	d := tls.Dialer{NetDialer: &net.Dialer{KeepAlive: 30 * time.Second}, Config: conf}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("dial cluster port %s: %w", addr, err)
	}
	if _, err := conn.Write([]byte{byte(k)}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("dial cluster port %s: %w", addr, err)
	}
	return conn, nil
}

// HTTPDialer returns a DialContext for an http.Transport that reaches the
// internal endpoints: the URL says http://<cluster addr>, and the
// connection underneath is mutual TLS.
func HTTPDialer(conf *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, _, addr string) (net.Conn, error) {
		return Dial(ctx, addr, KindHTTP, conf)
	}
}

// StreamLayer is the raft.StreamLayer over the cluster port.
type StreamLayer struct {
	net.Listener
	client *tls.Config
}

var _ raft.StreamLayer = (*StreamLayer)(nil)

// NewStreamLayer serves Raft on m and dials peers with client (the
// node's mutual-TLS client config).
func NewStreamLayer(m *Mux, client *tls.Config) *StreamLayer {
	return &StreamLayer{Listener: m.Listener(KindRaft), client: client}
}

// Dial opens a Raft connection to a peer.
func (s *StreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return Dial(ctx, string(address), KindRaft, s.client)
}
