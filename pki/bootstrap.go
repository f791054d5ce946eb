package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// Bootstrap creates a new cluster CA and this node's certificate under
// p, and returns the identity. The first server of a new cluster calls
// it once, on a data dir without a node certificate. A CA with its key
// already there is kept rather than replaced: that is how a cluster
// rebuilt from a snapshot keeps the CA its robots pinned (an operator
// puts it there with `casare operator snapshot ca`).
func (p Paths) Bootstrap(req NodeRequest, now time.Time) (*Identity, error) {
	ca, err := p.bootstrapCA(req.Name, now)
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

// bootstrapCA loads the CA an operator put in place, or makes a new one
// when there is none.
func (p Paths) bootstrapCA(clusterName string, now time.Time) (*CA, error) {
	if _, err := os.Stat(p.CACert()); errors.Is(err, fs.ErrNotExist) {
		return NewCA(clusterName, now)
	}
	ca, err := p.LoadCA()
	if err != nil {
		return nil, fmt.Errorf("the cluster CA already in %s: %w", p.Dir, err)
	}
	if ca.Key == nil {
		return nil, fmt.Errorf("the cluster CA in %s has no key (%s): a new cluster cannot issue certificates with it", p.Dir, p.CAKey())
	}
	return ca, nil
}
