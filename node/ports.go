package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"github.com/casare/casare/api"
)

// ErrAlreadyRunning says that a casare node already answers on this
// node's API address.
var ErrAlreadyRunning = errors.New("a casare node is already running")

// probeTimeout bounds the look at who holds a taken API port: a casare
// node on the same machine answers /health in milliseconds.
const probeTimeout = time.Second

// listenHTTP binds the API port before any other listener. The API port
// is the one a second node started with the same flags (a second
// `make run`) collides on first, and the node that holds it can be asked
// who it is, so the error can say "a node is already running" instead of
// "bind: address already in use" from whichever listener came first.
func (n httpApp) listenHTTP(ctx context.Context) (net.Listener, error) {
	addr := n.cfg.bind(n.cfg.HTTPPort)
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		return ln, nil
	}
	if !errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listen for HTTP on %s: %w", addr, err)
	}
	if name := casareAt(ctx, addr); name != "" {
		return nil, fmt.Errorf("%w: node %q serves its API on %s; stop it, or give this node other ports (--http-port, --raft-port, --gossip-port, --quic-port) and its own --data-dir",
			ErrAlreadyRunning, name, addr)
	}
	return nil, fmt.Errorf("listen for HTTP on %s: the port is in use by another program; choose another with --http-port: %w", addr, err)
}

// casareAt returns the name of the casare node whose API answers at addr,
// or "" when what answers is not one.
func casareAt(ctx context.Context, addr string) string {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/health", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var h api.Health
	if json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&h) != nil {
		return ""
	}
	return h.Node
}
