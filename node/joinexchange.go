package node

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/pki"
)

// The join exchange: a node with a join token and no certificate asks a
// server for one over the cluster port ('J' connections). The joiner
// first checks the server against the CA fingerprint in the token, so
// the secret goes only to the cluster it names. Servers get the CA key
// and the join token too (so that any server can admit the next joiner);
// every member gets the gossip keys, without which it cannot take part
// in gossip.

const clusterInfoPath = "/join/v1/cluster"

// clusterPortInfo is what the public API port says about where to find this
// node's cluster port. It carries nothing secret: whoever dials the
// cluster port checks it against the CA fingerprint.
type clusterPortInfo struct {
	Node        string `json:"node"`
	ClusterAddr string `json:"cluster_addr"`
}

type certExchangeRequest struct {
	Secret   string   `json:"secret"`
	Name     string   `json:"name"`
	Server   bool     `json:"server"`
	CSR      string   `json:"csr"`
	IPs      []string `json:"ips,omitempty"`
	DNSNames []string `json:"dns_names,omitempty"`
}

type certExchangeResponse struct {
	CACert     string   `json:"ca_cert"`
	CAKey      string   `json:"ca_key,omitempty"`
	NodeCert   string   `json:"node_cert"`
	GossipKeys []string `json:"gossip_keys"`
	JoinToken  string   `json:"join_token,omitempty"`
}

// maxExchangeBody bounds a join request: a CSR and a few addresses.
const maxExchangeBody = 64 << 10

func (n clusterLink) serveClusterInfo(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, clusterPortInfo{Node: n.cfg.Name, ClusterAddr: n.clusterAddr()})
}

// serveCertExchange issues a node certificate to a joiner that holds the
// join token, under a name no other member holds.
func (n clusterLink) serveCertExchange(w http.ResponseWriter, r *http.Request) {
	var req certExchangeRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxExchangeBody)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "join request: %v", err)
		return
	}
	if n.id.joinToken.Secret == "" || !n.id.joinToken.matches(req.Secret) {
		n.log.Warn("refused a join with a wrong join token", "name", req.Name, "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "join_token", "the join token is wrong for this cluster")
		return
	}
	resp, status, err := n.issueFor(req)
	if err != nil {
		n.log.Warn("refused a join", "name", req.Name, "err", err)
		writeError(w, status, "join_refused", "%v", err)
		return
	}
	n.log.Info("issued a node certificate", "name", req.Name, "server", req.Server)
	writeJSON(w, http.StatusOK, resp)
}

func (n clusterLink) issueFor(req certExchangeRequest) (certExchangeResponse, int, error) {
	pub, csrName, err := pki.ParseCSR([]byte(req.CSR))
	if err != nil {
		return certExchangeResponse{}, http.StatusBadRequest, err
	}
	if csrName != req.Name {
		return certExchangeResponse{}, http.StatusBadRequest, fmt.Errorf("the certificate request names %q, the join %q", csrName, req.Name)
	}
	if n.nameTaken(req.Name) {
		return certExchangeResponse{}, http.StatusConflict, fmt.Errorf("the name %q is held by another member's certificate; join under another name, or remove that member first", req.Name)
	}
	nr := pki.NodeRequest{Name: req.Name, Server: req.Server, DNSNames: req.DNSNames}
	for _, s := range req.IPs {
		if ip := net.ParseIP(s); ip != nil {
			nr.IPs = append(nr.IPs, ip)
		}
	}
	cert, err := n.id.pki.CA.Issue(pub, nr, time.Now())
	if err != nil {
		return certExchangeResponse{}, http.StatusBadRequest, err
	}
	resp := certExchangeResponse{CACert: string(pki.EncodeCert(n.id.pki.CA.Cert)), NodeCert: string(pki.EncodeCert(cert))}
	for _, k := range n.id.gossipKeys {
		resp.GossipKeys = append(resp.GossipKeys, mesh.EncodeGossipKey(k))
	}
	if req.Server {
		key, err := pki.EncodeKey(n.id.pki.CA.Key)
		if err != nil {
			return certExchangeResponse{}, http.StatusInternalServerError, err
		}
		resp.CAKey, resp.JoinToken = string(key), n.id.joinToken.String()
	}
	return resp, http.StatusOK, nil
}

// nameTaken reports whether a Raft server or a gossip member that has not
// left goes by name: its certificate holds the name.
func (n clusterLink) nameTaken(name string) bool {
	if name == n.cfg.Name {
		return true
	}
	if n.store != nil {
		if servers, err := n.store.Servers(); err == nil && slices.ContainsFunc(servers, func(s consensus.Server) bool { return s.Name == name }) {
			return true
		}
	}
	for _, m := range n.mesh.Members() {
		if m.Name == name && m.State != mesh.StateLeft {
			return true
		}
	}
	return false
}

// requestIdentity runs the joiner's side: it finds the cluster port of
// the member at seed (its API address), checks it against the token's
// CA fingerprint, and asks for a certificate. It retries only failures
// to reach the member; a refusal is final.
func requestIdentity(ctx context.Context, cfg *Config, tok JoinToken) (*identity, error) {
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	p := joinRetry
	p.OnRetry = func(tries int, err error, _ time.Duration) {
		cfg.Logger.Debug("join exchange attempt failed", "seed", cfg.Join, "attempt", tries, "err", err)
	}
	id, err := retry.Do(ctx, p, func() (*identity, error) {
		id, err := tryRequestIdentity(ctx, cfg, tok)
		if _, refused := errors.AsType[*refusal](err); refused {
			return nil, retry.Permanent(err)
		}
		return id, err
	})
	var refused *refusal
	if err != nil && !errors.As(err, &refused) {
		return nil, fmt.Errorf("join cluster via %s: %w", cfg.Join, err)
	}
	return id, err
}

// refusal is a join the cluster answered with a refusal.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }
func (r *refusal) Unwrap() error { return r.err }

func tryRequestIdentity(ctx context.Context, cfg *Config, tok JoinToken) (*identity, error) {
	var info clusterPortInfo
	if err := client.New("http://"+cfg.Join).GetJSON(ctx, clusterInfoPath, &info); err != nil {
		return nil, fmt.Errorf("ask %s for its cluster port: %w", cfg.Join, err)
	}
	key, err := pki.GenerateKey()
	if err != nil {
		return nil, err
	}
	csr, err := pki.NewCSR(key, cfg.Name)
	if err != nil {
		return nil, err
	}
	nr := certRequest(cfg)
	req := certExchangeRequest{Secret: tok.Secret, Name: cfg.Name, Server: cfg.Server, CSR: string(csr), DNSNames: nr.DNSNames}
	for _, ip := range nr.IPs {
		req.IPs = append(req.IPs, ip.String())
	}
	dial := func(ctx context.Context, _, addr string) (net.Conn, error) {
		return clusternet.Dial(ctx, addr, clusternet.KindJoin, pki.PinnedClientConfig(tok.Fingerprint))
	}
	c := client.New("http://"+info.ClusterAddr, client.WithDialer(dial))
	var resp certExchangeResponse
	if err := c.PostJSON(ctx, "/join/v1/certificate", req, &resp); err != nil {
		var ae *client.APIError
		switch {
		case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
			return nil, &refusal{fmt.Errorf("%w: the cluster at %s says the join token is wrong", ErrJoinToken, cfg.Join)}
		case errors.As(err, &ae) && ae.Code != "":
			return nil, &refusal{fmt.Errorf("the cluster at %s refused the join: %s", cfg.Join, ae.Message)}
		case errors.Is(err, pki.ErrFingerprint):
			return nil, &refusal{fmt.Errorf("%w: the node at %s is not of the cluster the join token names: %v", ErrJoinToken, info.ClusterAddr, err)}
		}
		return nil, fmt.Errorf("join exchange with %s: %w", info.ClusterAddr, err)
	}
	return acceptIdentity(cfg, tok, key, resp)
}

// acceptIdentity checks what the server sent and writes it to the data
// dir.
func acceptIdentity(cfg *Config, tok JoinToken, key *ecdsa.PrivateKey, resp certExchangeResponse) (*identity, error) {
	caCert, err := pki.DecodeCert([]byte(resp.CACert))
	if err != nil {
		return nil, fmt.Errorf("join exchange: CA certificate: %w", err)
	}
	if err := pki.CheckFingerprint(caCert, tok.Fingerprint); err != nil {
		return nil, fmt.Errorf("join exchange: %w", err)
	}
	ca := &pki.CA{Cert: caCert}
	if resp.CAKey != "" {
		if ca.Key, err = pki.DecodeKey([]byte(resp.CAKey)); err != nil {
			return nil, fmt.Errorf("join exchange: CA key: %w", err)
		}
	}
	cert, err := pki.DecodeCert([]byte(resp.NodeCert))
	if err != nil {
		return nil, fmt.Errorf("join exchange: node certificate: %w", err)
	}
	pid, err := pki.NewIdentity(ca, cert, key)
	if err != nil {
		return nil, fmt.Errorf("join exchange: %w", err)
	}
	id := &identity{pki: pid}
	for _, s := range resp.GossipKeys {
		k, err := mesh.DecodeGossipKey(s)
		if err != nil {
			return nil, fmt.Errorf("join exchange: %w", err)
		}
		id.gossipKeys = append(id.gossipKeys, k)
	}
	if resp.JoinToken != "" {
		if id.joinToken, err = ParseJoinToken(resp.JoinToken); err != nil {
			return nil, fmt.Errorf("join exchange: %w", err)
		}
	}
	paths := pki.PathsIn(cfg.DataDir)
	if err := paths.SaveCA(ca); err != nil {
		return nil, err
	}
	// The gossip keys and join token go first: the node certificate is
	// what marks the data dir as joined.
	if err := id.save(cfg.DataDir); err != nil {
		return nil, err
	}
	if err := paths.SaveNode(cert, key); err != nil {
		return nil, err
	}
	return id, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, format string, args ...any) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": fmt.Sprintf(format, args...)}})
}
