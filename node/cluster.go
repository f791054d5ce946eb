package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/node/peer"
	"github.com/casare/casare/pki"
)

// setupIdentity loads this node's certificate, or on a first start makes
// one: a new cluster's CA when bootstrapping, or through the join
// exchange with the join token when joining.
func (n clusterLink) setupIdentity(ctx context.Context) (*memberlist.Keyring, error) {
	var err error
	switch {
	case pki.PathsIn(n.cfg.DataDir).Exists():
		n.id, err = loadIdentity(n.cfg.DataDir)
	case n.cfg.Join == "":
		n.id, err = bootstrapIdentity(&n.cfg)
		if err == nil {
			n.bootstrapped = true
		}
	default:
		raw, rerr := n.readJoinToken(ctx)
		if rerr != nil {
			return nil, rerr
		}
		tok, perr := ParseJoinToken(raw)
		if perr != nil {
			return nil, perr
		}
		n.log.Info("asking the cluster for a node certificate", "via", n.cfg.Join)
		n.id, err = requestIdentity(ctx, &n.cfg, tok)
	}
	if err != nil {
		return nil, err
	}
	if n.id.pki.Name != n.cfg.Name {
		return nil, fmt.Errorf("the certificate in %s belongs to node %q, not %q: start with --name %s or another data dir",
			pki.PathsIn(n.cfg.DataDir).Dir, n.id.pki.Name, n.cfg.Name, n.id.pki.Name)
	}
	return mesh.NewKeyring(n.id.gossipKeys)
}

// tokenFilePoll is how often a joiner looks for a join token file that
// is not there yet; the first node writes it within its first second.
const tokenFilePoll = 200 * time.Millisecond

// readJoinToken returns JoinToken, or else waits for JoinTokenFile to
// hold a token.
func (n clusterLink) readJoinToken(ctx context.Context) (string, error) {
	if n.cfg.JoinToken != "" || n.cfg.JoinTokenFile == "" {
		return n.cfg.JoinToken, nil
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	for logged := false; ; logged = true {
		data, err := os.ReadFile(n.cfg.JoinTokenFile)
		if tok := strings.TrimSpace(string(data)); err == nil && tok != "" {
			return tok, nil
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("read join token file: %w", err)
		}
		if !logged {
			n.log.Info("waiting for the join token file", "path", n.cfg.JoinTokenFile)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("%w: join token file %s: %w", ErrJoinToken, n.cfg.JoinTokenFile, ctx.Err())
		case <-time.After(tokenFilePoll):
		}
	}
}

// listenCluster opens the mutual-TLS cluster port: Raft, the internal
// endpoints and the join exchange.
func (n clusterLink) listenCluster() error {
	var err error
	n.mux, err = clusternet.Listen(n.cfg.clusterBind(), n.cfg.advertise(n.cfg.RaftPort), n.id.pki.ServerConfig(), n.log)
	if err != nil {
		return err
	}
	n.log.Info("cluster port listening (Raft and internal endpoints, mutual TLS)", "addr", n.clusterAddr())
	return nil
}

func (n *Node) clusterAddr() string { return n.mux.Addr().String() }

// clusterClient is a client of another node's internal endpoints.
func (n *Node) clusterClient(addr string) *peer.Client {
	return peer.New("http://"+addr, client.WithHTTPClient(n.clusterHTTPClient()))
}

// clusterAPI is a plain JSON client of another node's internal
// endpoints, for the node's own (gossip key) calls.
func (n *Node) clusterAPI(addr string) *client.Client {
	return client.New("http://"+addr, client.WithHTTPClient(n.clusterHTTPClient()))
}

// clusterHTTPClient is shared by every internal call, so that connections
// (and their TLS handshakes) are reused.
func (n *Node) clusterHTTPClient() *http.Client {
	n.clusterHTTPOnce.Do(func() {
		n.clusterHTTP = &http.Client{Timeout: client.DefaultTimeout, Transport: &http.Transport{
			DialContext: clusternet.HTTPDialer(n.id.pki.ClientConfig()),
			// As api/client's own transport: many robot calls go to one
			// server, so keep more idle connections than the default two.
			MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second,
		}}
	})
	return n.clusterHTTP
}

// serveCluster serves the internal endpoints and the join exchange on
// the cluster port.
func (n clusterLink) serveCluster(internal http.Handler) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /internal/v1/seeds", n.serveSeeds)
	mux.HandleFunc("POST /internal/v1/gossip-key", n.serveGossipKey)
	mux.HandleFunc("POST /internal/v1/gossip-key/rotate", n.serveGossipKeyRotate)
	if internal != nil {
		mux.Handle("/internal/", internal)
	} else {
		mux.HandleFunc("POST /internal/v1/leave", n.serveLeave)
	}
	n.internalHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	join := http.NewServeMux()
	if n.id.pki.CA.Key != nil { // only servers hold the CA key and issue
		join.HandleFunc("POST /join/v1/certificate", n.serveCertExchange)
	} else {
		join.HandleFunc("POST /join/v1/certificate", func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusConflict, "join_refused", "node %s is a robot-only member and issues no certificates: join through a server's address", n.cfg.Name)
		})
	}
	n.joinHTTP = &http.Server{Handler: join, ReadHeaderTimeout: 10 * time.Second}
	for srv, ln := range map[*http.Server]clusternet.Kind{n.internalHTTP: clusternet.KindHTTP, n.joinHTTP: clusternet.KindJoin} {
		l := n.mux.Listener(ln)
		n.wg.Go(func() {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, clusternet.ErrClosed) {
				n.log.Error("cluster HTTP server stopped", "err", err)
			}
		})
	}
}

// peerAuth names the node behind an internal request from its verified
// client certificate.
func peerAuth(r *http.Request) (api.Peer, error) {
	name, err := pki.PeerName(r.TLS)
	if err != nil {
		return api.Peer{}, err
	}
	return api.Peer{Name: name, Server: pki.IsServer(r.TLS.PeerCertificates[0])}, nil
}

// requireNodePeer guards the node's own internal endpoints the way
// api's peer check guards the store's.
func requireNodePeer(w http.ResponseWriter, r *http.Request, serverOnly bool) (api.Peer, bool) {
	p, err := peerAuth(r)
	if err != nil {
		writeError(w, http.StatusForbidden, api.CodePeerRefused, "internal endpoints need a node certificate of this cluster: %v", err)
		return p, false
	}
	if serverOnly && !p.Server {
		writeError(w, http.StatusForbidden, api.CodePeerRefused, "node %q holds a robot-only certificate; this endpoint serves servers", p.Name)
		return p, false
	}
	return p, true
}

// serveLeave lets a robot-only node be asked to leave, by itself (the
// local CLI with its certificate) or by a server relaying an admin's
// request; servers answer in package api.
func (n clusterLink) serveLeave(w http.ResponseWriter, r *http.Request) {
	p, ok := requireNodePeer(w, r, false)
	if !ok {
		return
	}
	if p.Name != n.cfg.Name && !p.Server {
		writeError(w, http.StatusForbidden, api.CodePeerRefused, "only node %s itself or a server may ask it to leave, not robot-only member %q", n.cfg.Name, p.Name)
		return
	}
	writeJSON(w, http.StatusAccepted, api.LeaveResponse{Node: n.cfg.Name, Status: "leaving"})
	n.requestLeave()
}

// printBootstrap tells the operator of a new cluster where its secrets
// are and how to add a node.
func (n clusterLink) printBootstrap() {
	if !n.bootstrapped {
		return
	}
	if n.cfg.BootstrapOut == nil {
		return
	}
	out := n.cfg.BootstrapOut
	fmt.Fprintf(out, "\nNew cluster %s: CA fingerprint %s\n", n.cfg.Name, n.id.pki.Fingerprint())
	fmt.Fprintf(out, "  join token: %s (mode 0600)\n", joinTokenPath(n.cfg.DataDir))
	fmt.Fprintf(out, "  add a node: casare node join %s --join-token-file %s --name NAME\n\n",
		n.cfg.httpAdvertise(), joinTokenPath(n.cfg.DataDir))
}

// askLeave asks a running member to leave the cluster gracefully, at its
// cluster port, as a server (api.Config.AskLeave).
func (n clusterLink) askLeave(ctx context.Context, name string) error {
	for _, m := range n.mesh.Members() {
		if m.Name != name {
			continue
		}
		if m.Meta.RaftAddr == "" {
			return fmt.Errorf("member %s advertises no cluster address", name)
		}
		return n.clusterAPI(m.Meta.RaftAddr).PostJSON(ctx, "/internal/v1/leave", struct{}{}, nil)
	}
	return fmt.Errorf("no member named %q", name)
}
