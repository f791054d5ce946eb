package pki

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Paths of the PKI files under a node's data directory.
type Paths struct{ Dir string }

// PathsIn returns the file layout under dataDir/tls.
func PathsIn(dataDir string) Paths { return Paths{Dir: filepath.Join(dataDir, "tls")} }

func (p Paths) CACert() string   { return filepath.Join(p.Dir, "ca.crt") }
func (p Paths) CAKey() string    { return filepath.Join(p.Dir, "ca.key") }
func (p Paths) NodeCert() string { return filepath.Join(p.Dir, "node.crt") }
func (p Paths) NodeKey() string  { return filepath.Join(p.Dir, "node.key") }

// Exists reports whether this data dir already holds a node certificate.
func (p Paths) Exists() bool {
	_, err := os.Stat(p.NodeCert())
	return err == nil
}

// SaveCA writes the CA certificate and, when the CA has one, its key
// (0600). A robot-only member saves a CA without key.
func (p Paths) SaveCA(ca *CA) error {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", p.Dir, err)
	}
	if err := writeFile(p.CACert(), EncodeCert(ca.Cert), 0o644); err != nil {
		return err
	}
	if ca.Key == nil {
		return nil
	}
	keyPEM, err := EncodeKey(ca.Key)
	if err != nil {
		return err
	}
	return writeFile(p.CAKey(), keyPEM, 0o600)
}

// LoadCA reads the CA certificate and, if present, its key. A missing
// key is not an error (robot-only members have none): CA.Key is nil.
func (p Paths) LoadCA() (*CA, error) {
	cert, err := readCert(p.CACert())
	if err != nil {
		return nil, err
	}
	ca := &CA{Cert: cert}
	keyPEM, err := os.ReadFile(p.CAKey())
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read CA key: %w", err)
	default:
		if ca.Key, err = DecodeKey(keyPEM); err != nil {
			return nil, fmt.Errorf("%s: %w", p.CAKey(), err)
		}
	}
	if err := checkCA(ca.Cert, ca.Key); err != nil {
		return nil, fmt.Errorf("%s: %w", p.CACert(), err)
	}
	return ca, nil
}

// SaveNode writes the node certificate and its key (0600).
func (p Paths) SaveNode(cert *x509.Certificate, key *ecdsa.PrivateKey) error {
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", p.Dir, err)
	}
	keyPEM, err := EncodeKey(key)
	if err != nil {
		return err
	}
	// Key first: a crash between the two writes leaves no certificate,
	// which reads as "not joined yet", never a certificate without key.
	if err := writeFile(p.NodeKey(), keyPEM, 0o600); err != nil {
		return err
	}
	return writeFile(p.NodeCert(), EncodeCert(cert), 0o644)
}

// Load reads the node's whole identity: CA (key if held), node
// certificate and key, and checks that they belong together.
func (p Paths) Load() (*Identity, error) {
	ca, err := p.LoadCA()
	if err != nil {
		return nil, err
	}
	cert, err := readCert(p.NodeCert())
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(p.NodeKey())
	if err != nil {
		return nil, fmt.Errorf("read node key: %w", err)
	}
	key, err := DecodeKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.NodeKey(), err)
	}
	return NewIdentity(ca, cert, key)
}

// EncodeCert returns cert as a PEM block.
func EncodeCert(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// DecodeCert parses the first PEM certificate in data.
func DecodeCert(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}

// EncodeKey returns key as a PEM "EC PRIVATE KEY" block.
func EncodeKey(key *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// DecodeKey parses a PEM "EC PRIVATE KEY" block.
func DecodeKey(data []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "EC PRIVATE KEY" {
		return nil, errors.New("no PEM EC PRIVATE KEY block")
	}
	key, err := x509.ParseECPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	return key, nil
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	cert, err := DecodeCert(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cert, nil
}

// writeFile replaces path atomically with data at mode perm.
func writeFile(path string, data []byte, perm os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, perm); err != nil { // WriteFile keeps an existing file's mode
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
