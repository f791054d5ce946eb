package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"strings"
	"time"
)

// Validity periods. The CA outlives any node certificate by far so that
// re-issuing node certificates never needs a new CA; a year for a node
// certificate is what a restart-free node may run before renewal.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	NodeValidity = 365 * 24 * time.Hour
	// clockSkew backdates NotBefore so a peer whose clock is a little
	// behind the issuer's still accepts a fresh certificate.
	clockSkew = 5 * time.Minute
)

// NodeURIScheme and nodeURIHost form the URI SAN casare://node/<name>
// that marks a node certificate.
const (
	NodeURIScheme = "casare"
	nodeURIHost   = "node"
)

// Errors callers tell apart with errors.Is.
var (
	ErrNotNodeCert       = errors.New("not a casare node certificate")
	ErrFingerprint       = errors.New("CA fingerprint does not match")
	ErrBadName           = errors.New("invalid node name")
	ErrNoCAKey           = errors.New("this node holds no CA key")
	ErrUnsupportedKey    = errors.New("unsupported public key: want ECDSA P-256")
	errNotCACertificate  = errors.New("certificate is not a CA")
	errCAKeyDoesNotMatch = errors.New("CA key does not match the CA certificate")
)

// CA is the cluster certificate authority. Key is nil on a node that
// holds only the CA certificate (a robot-only member).
type CA struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NodeRequest names what goes into a node certificate.
type NodeRequest struct {
	Name string
	// Server marks a node that holds Raft state: its certificate carries
	// the URI SAN casare://role/server, so a robot-only member's
	// certificate cannot pass as a server's (see IsServer).
	Server   bool
	IPs      []net.IP
	DNSNames []string
}

// GenerateKey makes a new ECDSA P-256 private key.
func GenerateKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate P-256 key: %w", err)
	}
	return key, nil
}

// NewCA creates a self-signed cluster CA. clusterName only labels the
// certificate; trust comes from holding it.
func NewCA(clusterName string, now time.Time) (*CA, error) {
	key, err := GenerateKey()
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "casare cluster CA " + clusterName, Organization: []string{"casare"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse new CA certificate: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// checkCA verifies that cert is a CA and, when key is set, that key is
// its private key.
func checkCA(cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	if !cert.IsCA {
		return errNotCACertificate
	}
	if key == nil {
		return nil
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return errCAKeyDoesNotMatch
	}
	return nil
}

// Issue signs a node certificate for pub. The caller has authenticated
// the requester (join token, or its existing node certificate) and
// decided the name is theirs to hold.
func (ca *CA) Issue(pub crypto.PublicKey, req NodeRequest, now time.Time) (*x509.Certificate, error) {
	if ca.Key == nil {
		return nil, ErrNoCAKey
	}
	if err := ValidName(req.Name); err != nil {
		return nil, err
	}
	ecPub, ok := pub.(*ecdsa.PublicKey)
	if !ok || ecPub.Curve != elliptic.P256() {
		return nil, ErrUnsupportedKey
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: req.Name, Organization: []string{"casare"}},
		NotBefore:    now.Add(-clockSkew),
		NotAfter:     now.Add(NodeValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		URIs:         nodeURIs(req),
		IPAddresses:  req.IPs,
		DNSNames:     req.DNSNames,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, ecPub, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("issue node certificate for %q: %w", req.Name, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parse node certificate for %q: %w", req.Name, err)
	}
	return cert, nil
}

// NodeURI is the URI SAN of the node certificate of name.
func NodeURI(name string) *url.URL {
	return &url.URL{Scheme: NodeURIScheme, Host: nodeURIHost, Path: "/" + name}
}

func nodeURIs(req NodeRequest) []*url.URL {
	uris := []*url.URL{NodeURI(req.Name)}
	if req.Server {
		uris = append(uris, serverRoleURI)
	}
	return uris
}

// serverRoleURI marks a server's node certificate.
var serverRoleURI = &url.URL{Scheme: NodeURIScheme, Host: "role", Path: "/server"}

// IsServer reports whether a node certificate was issued to a server.
func IsServer(cert *x509.Certificate) bool {
	for _, u := range cert.URIs {
		if u.String() == serverRoleURI.String() {
			return true
		}
	}
	return false
}

// NodeName returns the node name a node certificate was issued to, or
// ErrNotNodeCert when cert carries no casare://node/<name> URI, or its
// URI and common name disagree.
func NodeName(cert *x509.Certificate) (string, error) {
	for _, u := range cert.URIs {
		if u.Scheme != NodeURIScheme || u.Host != nodeURIHost {
			continue
		}
		name := strings.TrimPrefix(u.Path, "/")
		if name == "" || name != cert.Subject.CommonName {
			break
		}
		return name, nil
	}
	return "", fmt.Errorf("%w (subject %q)", ErrNotNodeCert, cert.Subject.CommonName)
}

// ValidName reports whether name can be a node name in a certificate:
// 1-64 characters of letters, digits, '-', '_' and '.'.
func ValidName(name string) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w %q: want 1-64 characters", ErrBadName, name)
	}
	for _, r := range name {
		ok := r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("%w %q: only letters, digits, '-', '_' and '.' are allowed", ErrBadName, name)
		}
	}
	return nil
}

// Fingerprint is "sha256:" and the lowercase hex SHA-256 of the CA
// certificate's DER. Join tokens and robot tokens carry it.
func Fingerprint(caCert *x509.Certificate) string {
	sum := sha256.Sum256(caCert.Raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// CheckFingerprint reports ErrFingerprint unless caCert has the
// fingerprint want, compared in constant time.
func CheckFingerprint(caCert *x509.Certificate, want string) error {
	got := Fingerprint(caCert)
	if subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(want))) != 1 {
		return fmt.Errorf("%w: the peer's CA is %s, expected %s", ErrFingerprint, got, want)
	}
	return nil
}

func newSerial() (*big.Int, error) {
	// 128 random bits: RFC 5280 allows up to 20 octets, and collisions at
	// this size are not a concern.
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("generate certificate serial: %w", err)
	}
	return serial, nil
}
