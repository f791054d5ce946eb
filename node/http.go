package node

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/casare/casare/api"
	"github.com/casare/casare/web"
)

// serveHTTP serves the public HTTP surface (handler) on ln, over TLS
// when the node has an API certificate.
func (n httpApp) serveHTTP(ln net.Listener) error {
	n.http = api.NewHTTPServer(n.handler(), n.cfg.HTTPTimeouts)
	scheme := "http"
	if n.cfg.TLSCert != "" {
		// Load now, so that a bad certificate stops the start with a
		// clear error instead of failing every handshake later.
		cert, err := tls.LoadX509KeyPair(n.cfg.TLSCert, n.cfg.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load the API's TLS certificate: %w", err)
		}
		n.http.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln, scheme = tls.NewListener(ln, n.http.TLSConfig), "https"
	}
	n.wg.Go(func() {
		if err := n.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("HTTP server stopped", "err", err)
		}
	})
	n.log.Info("API listening", "addr", scheme+"://"+ln.Addr().String())
	return nil
}

// handler is the public HTTP surface: the API on servers, a proxy to a
// server on robot-only nodes, and where a joiner finds the cluster port.
// The internal endpoints are served on the cluster port (serveCluster).
func (n httpApp) handler() http.Handler {
	link := clusterLink{n.Node}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+clusterInfoPath, link.serveClusterInfo)
	if n.store == nil {
		link.serveCluster(nil)
		mux.Handle("/", withWebApp(streamsUnbounded(newServerProxy(n.mesh, n.log))))
		return mux
	}
	srv := api.New(api.Config{
		Store: n.store, Members: n.members, OnLeave: n.requestLeave, AskLeave: link.askLeave, NotMember: n.notMember.Load,
		Starting: n.stillStarting,
		NodeName: n.cfg.Name, Logger: n.log, MaxLogFollowers: n.cfg.MaxLogFollowers, PeerAuth: peerAuth,
		MetricsPublic: n.cfg.MetricsPublic, CORSOrigin: n.cfg.CORSOrigin,
		CAFingerprint: n.caFingerprint(),
		Archive:       n.apiArchive(),
		ClusterCA:     n.clusterCA,
	})
	link.serveCluster(srv.Internal())
	mux.Handle("/", srv)
	return mux
}

// withWebApp serves the web app's pages and files from this node's own
// bundle and everything else (the API) with api: a robot-only member
// still serves the page when no server answers, and the page shows why
// its data is missing instead of the browser's own error.
func withWebApp(api http.Handler) http.Handler {
	app := web.NewHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if web.Serves(r) {
			app.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}

func (n httpApp) members() []api.Member {
	ms := n.mesh.Members()
	out := make([]api.Member, len(ms))
	for i, m := range ms {
		out[i] = api.Member{
			Name: m.Name, State: m.State, Roles: m.Meta.Roles, HTTPAddr: m.Meta.HTTPAddr,
			Tags: m.Meta.Tags, Capacity: m.Meta.Capacity, Since: m.Since,
		}
	}
	return out
}
