package pki

import (
	"fmt"
	"time"
)

// Bootstrap creates a new cluster CA and this node's certificate under
// p, and returns the identity. The first server of a new cluster calls
// it once, on an empty data dir.
func (p Paths) Bootstrap(req NodeRequest, now time.Time) (*Identity, error) {
	ca, err := NewCA(req.Name, now)
	if err != nil {
		return nil, err
	}
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	cert, err := ca.Issue(&key.PublicKey, req, now)
	if err != nil {
		return nil, err
	}
	if err := p.SaveCA(ca); err != nil {
		return nil, fmt.Errorf("save cluster CA: %w", err)
	}
	if err := p.SaveNode(cert, key); err != nil {
		return nil, fmt.Errorf("save node certificate: %w", err)
	}
	return NewIdentity(ca, cert, key)
}
