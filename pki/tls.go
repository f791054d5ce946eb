package pki

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
)

// Identity is what a node presents and trusts: its certificate and key,
// and the cluster CA (with key on servers).
type Identity struct {
	CA   *CA
	Cert tls.Certificate // leaf in Cert.Leaf
	Name string          // the node name the certificate was issued to
	Pool *x509.CertPool  // holds the cluster CA only
}

// NewIdentity checks that cert is a node certificate from ca whose key is
// key, and bundles them.
func NewIdentity(ca *CA, cert *x509.Certificate, key *ecdsa.PrivateKey) (*Identity, error) {
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return nil, errors.New("node key does not match the node certificate")
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	name, err := VerifyNode(pool, []*x509.Certificate{cert})
	if err != nil {
		return nil, fmt.Errorf("node certificate: %w", err)
	}
	return &Identity{
		CA: ca,
		// The CA goes with the leaf so that a joiner, which knows only the
		// CA's fingerprint, can check the chain it is shown.
		Cert: tls.Certificate{Certificate: [][]byte{cert.Raw, ca.Cert.Raw}, PrivateKey: key, Leaf: cert},
		Name: name,
		Pool: pool,
	}, nil
}

// Fingerprint is the fingerprint of the identity's CA.
func (id *Identity) Fingerprint() string { return Fingerprint(id.CA.Cert) }

// VerifyNode checks that chain[0] is a node certificate issued by a CA in
// pool for both client and server use, and returns its node name.
func VerifyNode(pool *x509.CertPool, chain []*x509.Certificate) (string, error) {
	if len(chain) == 0 {
		return "", fmt.Errorf("%w: the peer sent no certificate", ErrNotNodeCert)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots: pool, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	if _, err := chain[0].Verify(opts); err != nil {
		return "", fmt.Errorf("verify peer certificate against the cluster CA: %w", err)
	}
	return NodeName(chain[0])
}

// ServerConfig is a mutual-TLS server config: the node presents its
// certificate and requires a node certificate from the cluster CA.
func (id *Identity) ServerConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.Cert},
		ClientCAs:    id.Pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				// Only reachable when a caller relaxed ClientAuth (the
				// cluster listener's join path); the client is then
				// anonymous, and whoever serves it must treat it so.
				return nil
			}
			_, err := VerifyNode(id.Pool, cs.PeerCertificates)
			return err
		},
	}
}

// ClientConfig is a mutual-TLS client config: the node presents its
// certificate and accepts only a server holding a node certificate from
// the cluster CA. Host names are not checked (see the package doc).
func (id *Identity) ClientConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{id.Cert},
		RootCAs:      id.Pool,
		// The standard verification would also match the host name; the
		// chain and the node URI are checked in VerifyConnection instead.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			_, err := VerifyNode(id.Pool, cs.PeerCertificates)
			return err
		},
	}
}

// PeerName returns the node name of the peer of a mutual-TLS connection
// already verified by ServerConfig or ClientConfig.
func PeerName(cs *tls.ConnectionState) (string, error) {
	if cs == nil || len(cs.PeerCertificates) == 0 {
		return "", fmt.Errorf("%w: no TLS client certificate", ErrNotNodeCert)
	}
	return NodeName(cs.PeerCertificates[0])
}

// PinnedClientConfig is for a party that holds no certificate yet but
// knows the cluster CA's fingerprint (a joiner with a join token): it
// accepts a server whose chain holds a CA with that fingerprint and whose
// leaf is a node certificate from it.
func PinnedClientConfig(fingerprint string) *tls.Config {
	return &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // verified against the pinned CA below
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyPinned(cs.PeerCertificates, fingerprint)
		},
	}
}

func verifyPinned(chain []*x509.Certificate, fingerprint string) error {
	for _, c := range chain {
		if !c.IsCA || CheckFingerprint(c, fingerprint) != nil {
			continue
		}
		pool := x509.NewCertPool()
		pool.AddCert(c)
		_, err := VerifyNode(pool, chain[:1])
		return err
	}
	return fmt.Errorf("%w: the server's chain holds no CA with fingerprint %s", ErrFingerprint, fingerprint)
}
