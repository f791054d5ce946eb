package node

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/casare/casare/mesh"
	"github.com/casare/casare/pki"
)

// Files of a node's cluster identity, beside pki's <data-dir>/tls.
const (
	joinTokenFile  = "join.token"
	gossipKeysFile = "gossip.keys"
)

// joinTokenPrefix starts every join token, so that one pasted in the
// wrong place is recognised.
const joinTokenPrefix = "casare_join_"

// ErrJoinToken is the error of a join token that is missing, malformed
// or wrong.
var ErrJoinToken = errors.New("join token refused")

// JoinToken is what a joiner needs: a secret that servers check, and the
// fingerprint of the cluster CA, with which the joiner checks the server
// before it sends the secret (as kubeadm's discovery token CA hash).
type JoinToken struct {
	Secret      string
	Fingerprint string
}

func (t JoinToken) String() string { return joinTokenPrefix + t.Secret + "." + t.Fingerprint }

// ParseJoinToken reads "casare_join_<secret>.sha256:<hex>".
func ParseJoinToken(s string) (JoinToken, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return JoinToken{}, fmt.Errorf("%w: no join token given (use --join-token, CASARE_JOIN_TOKEN or --join-token-file; the first node wrote it to <data-dir>/%s)", ErrJoinToken, joinTokenFile)
	}
	rest, ok := strings.CutPrefix(s, joinTokenPrefix)
	secret, fp, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || len(secret) != 64 || !strings.HasPrefix(fp, "sha256:") || len(fp) != len("sha256:")+64 {
		return JoinToken{}, fmt.Errorf("%w: malformed join token: want %s<64 hex>.sha256:<64 hex>", ErrJoinToken, joinTokenPrefix)
	}
	return JoinToken{Secret: secret, Fingerprint: fp}, nil
}

// matches compares secrets in constant time.
func (t JoinToken) matches(secret string) bool {
	return subtle.ConstantTimeCompare([]byte(t.Secret), []byte(secret)) == 1
}

func newJoinToken(fingerprint string) (JoinToken, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return JoinToken{}, fmt.Errorf("generate join token: %w", err)
	}
	return JoinToken{Secret: hex.EncodeToString(b), Fingerprint: fingerprint}, nil
}

// identity is what a node proves itself with and what it hands joiners.
type identity struct {
	pki        *pki.Identity
	gossipKeys [][]byte  // primary first
	joinToken  JoinToken // zero on robot-only members
}

func joinTokenPath(dataDir string) string  { return filepath.Join(dataDir, joinTokenFile) }
func gossipKeysPath(dataDir string) string { return filepath.Join(dataDir, gossipKeysFile) }

// loadIdentity reads a node's identity from its data dir.
func loadIdentity(dataDir string) (*identity, error) {
	id, err := pki.PathsIn(dataDir).Load()
	if err != nil {
		return nil, fmt.Errorf("load node certificate: %w", err)
	}
	keys, err := loadGossipKeys(dataDir)
	if err != nil {
		return nil, err
	}
	out := &identity{pki: id, gossipKeys: keys}
	if id.CA.Key == nil {
		return out, nil
	}
	data, err := os.ReadFile(joinTokenPath(dataDir))
	if err != nil {
		return nil, fmt.Errorf("read join token: %w", err)
	}
	if out.joinToken, err = ParseJoinToken(string(data)); err != nil {
		return nil, fmt.Errorf("%s: %w", joinTokenPath(dataDir), err)
	}
	return out, nil
}

// bootstrapIdentity makes a new cluster's CA, this node's certificate, a
// join token and a gossip key, and writes them to the data dir.
func bootstrapIdentity(cfg *Config) (*identity, error) {
	id, err := pki.PathsIn(cfg.DataDir).Bootstrap(certRequest(cfg), time.Now())
	if err != nil {
		return nil, fmt.Errorf("create cluster CA: %w", err)
	}
	tok, err := newJoinToken(id.Fingerprint())
	if err != nil {
		return nil, err
	}
	key, err := mesh.NewGossipKey()
	if err != nil {
		return nil, err
	}
	out := &identity{pki: id, gossipKeys: [][]byte{key}, joinToken: tok}
	if err := out.save(cfg.DataDir); err != nil {
		return nil, err
	}
	return out, nil
}

// save writes the join token and gossip keys (the certificates are
// written by pki).
func (id *identity) save(dataDir string) error {
	if err := saveGossipKeys(dataDir, id.gossipKeys); err != nil {
		return err
	}
	if id.joinToken.Secret == "" {
		return nil
	}
	return writeSecret(joinTokenPath(dataDir), id.joinToken.String()+"\n")
}

func certRequest(cfg *Config) pki.NodeRequest {
	req := pki.NodeRequest{Name: cfg.Name, Server: cfg.Server}
	for _, host := range []string{cfg.AdvertiseAddr, cfg.ClusterBindAddr} {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			req.IPs = append(req.IPs, ip)
		} else if ip == nil && host != "" {
			req.DNSNames = append(req.DNSNames, host)
		}
	}
	return req
}

func loadGossipKeys(dataDir string) ([][]byte, error) {
	data, err := os.ReadFile(gossipKeysPath(dataDir))
	if err != nil {
		return nil, fmt.Errorf("read gossip keys: %w", err)
	}
	var keys [][]byte
	for _, line := range strings.Fields(string(data)) {
		key, err := mesh.DecodeGossipKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", gossipKeysPath(dataDir), err)
		}
		keys = append(keys, key)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s holds no gossip key", gossipKeysPath(dataDir))
	}
	return keys, nil
}

// saveGossipKeys writes keys one per line, the primary first (0600).
func saveGossipKeys(dataDir string, keys [][]byte) error {
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(mesh.EncodeGossipKey(k) + "\n")
	}
	return writeSecret(gossipKeysPath(dataDir), b.String())
}

// writeSecret replaces path atomically with a 0600 file.
func writeSecret(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// clusterCA is the CA a snapshot carries: its certificate, and its key
// on a server that holds it.
func (n *Node) clusterCA() (cert, key []byte, err error) {
	ca := n.id.pki.CA
	cert = pki.EncodeCert(ca.Cert)
	if ca.Key == nil {
		return cert, nil, nil
	}
	key, err = pki.EncodeKey(ca.Key)
	return cert, key, err
}
