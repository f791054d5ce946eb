package node

import (
	"fmt"
	"net"
	"time"

	"github.com/casare/casare/pki"
)

// gatewayIdentity is what the QUIC gateway presents to internet robots:
// the node certificate from the cluster CA with the CA after it, and the
// CA's fingerprint, which every robot token carries so that robots can
// verify the node they dial (see mesh/tunnel).
//
// It is the node's cluster identity, read from <data-dir>/tls where the
// node's first start (or its join) stored it. A data dir that holds only
// the cluster CA with its key (handed over by an operator) gets a node
// certificate issued from it; one without anything gets a new CA of its
// own. (The cluster identity work writes the identity before anything
// listens, so then the first case always holds.)
func (n *Node) gatewayIdentity() (*pki.Identity, error) {
	paths := pki.PathsIn(n.cfg.DataDir)
	req := pki.NodeRequest{Name: n.cfg.Name, Server: n.cfg.Server, IPs: advertisedIPs(n.cfg.AdvertiseAddr)}
	if paths.Exists() {
		id, err := paths.Load()
		if err != nil {
			return nil, fmt.Errorf("load node certificate from %s: %w", paths.Dir, err)
		}
		return id, nil
	}
	if ca, err := paths.LoadCA(); err == nil && ca.Key != nil {
		return issueNodeCert(paths, ca, req)
	}
	id, err := paths.Bootstrap(req, time.Now())
	if err != nil {
		return nil, fmt.Errorf("create cluster CA and node certificate in %s: %w", paths.Dir, err)
	}
	return id, nil
}

// issueNodeCert makes this node's certificate from a CA whose key it holds.
func issueNodeCert(paths pki.Paths, ca *pki.CA, req pki.NodeRequest) (*pki.Identity, error) {
	key, err := pki.GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := ca.Issue(&key.PublicKey, req, time.Now())
	if err != nil {
		return nil, fmt.Errorf("issue node certificate: %w", err)
	}
	if err := paths.SaveNode(cert, key); err != nil {
		return nil, fmt.Errorf("save node certificate in %s: %w", paths.Dir, err)
	}
	return pki.NewIdentity(ca, cert, key)
}

func advertisedIPs(addr string) []net.IP {
	if ip := net.ParseIP(addr); ip != nil {
		return []net.IP{ip}
	}
	return nil
}
