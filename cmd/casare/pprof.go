package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// errPprofAddr refuses a --pprof address other hosts could reach: the
// profiles show goroutine stacks and command lines, and /debug/pprof has
// no credential.
var errPprofAddr = errors.New("--pprof must be a loopback address (127.0.0.1:PORT or [::1]:PORT)")

// servePprof serves net/http/pprof on addr until ctx ends and returns the
// address it listens on (port 0 picks a free one). It listens before it
// returns, so a bad or busy address fails the node's start.
func servePprof(ctx context.Context, addr string, log *slog.Logger) (bound net.Addr, stop func(), err error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %q: %w", errPprofAddr, addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, nil, fmt.Errorf("%w, not %q", errPprofAddr, addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("pprof listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("pprof listener stopped", "err", err)
		}
	}()
	log.Info("serving pprof on loopback", "addr", ln.Addr().String())
	return ln.Addr(), func() {
		srv.Close() // profiles in flight are cut short: the node is stopping
		<-done
	}, nil
}
