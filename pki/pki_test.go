package pki_test

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/pki"
)

func bootstrap(t *testing.T, name string) (*pki.Identity, pki.Paths) {
	t.Helper()
	p := pki.PathsIn(t.TempDir())
	id, err := p.Bootstrap(pki.NodeRequest{Name: name, Server: true, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return id, p
}

// issue makes a second node identity from the same CA.
func issue(t *testing.T, ca *pki.CA, name string) *pki.Identity {
	t.Helper()
	key, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(&key.PublicKey, pki.NodeRequest{Name: name}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.NewIdentity(ca, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestBootstrapWritesTheContractFilesAndReloads(t *testing.T) {
	id, p := bootstrap(t, "n1")
	for path, mode := range map[string]os.FileMode{p.CAKey(): 0o600, p.NodeKey(): 0o600, p.CACert(): 0o644, p.NodeCert(): 0o644} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", path, st.Mode().Perm(), mode)
		}
	}
	got, err := p.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "n1" || got.Fingerprint() != id.Fingerprint() || got.CA.Key == nil {
		t.Fatalf("reloaded identity %q %s (CA key %v), want n1 %s with CA key", got.Name, got.Fingerprint(), got.CA.Key != nil, id.Fingerprint())
	}
	leaf := got.Cert.Leaf
	if leaf.NotAfter.Sub(leaf.NotBefore) < 364*24*time.Hour || leaf.URIs[0].String() != "casare://node/n1" {
		t.Fatalf("node certificate: validity %v, URIs %v", leaf.NotAfter.Sub(leaf.NotBefore), leaf.URIs)
	}
	if !strings.HasPrefix(id.Fingerprint(), "sha256:") || len(id.Fingerprint()) != len("sha256:")+64 {
		t.Fatalf("fingerprint %q", id.Fingerprint())
	}
}

func TestRobotOnlyMemberLoadsWithoutCAKey(t *testing.T) {
	server, _ := bootstrap(t, "n1")
	robot := issue(t, server.CA, "r1")
	p := pki.PathsIn(t.TempDir())
	if err := p.SaveCA(&pki.CA{Cert: server.CA.Cert}); err != nil {
		t.Fatal(err)
	}
	if err := p.SaveNode(robot.Cert.Leaf, robot.Cert.PrivateKey.(*ecdsa.PrivateKey)); err != nil {
		t.Fatal(err)
	}
	got, err := p.Load()
	if err != nil {
		t.Fatal(err)
	}
	if got.CA.Key != nil || got.Name != "r1" {
		t.Fatalf("robot-only identity: name %q, CA key held %v", got.Name, got.CA.Key != nil)
	}
	if _, err := got.CA.Issue(&robot.Cert.PrivateKey.(*ecdsa.PrivateKey).PublicKey, pki.NodeRequest{Name: "x"}, time.Now()); !errors.Is(err, pki.ErrNoCAKey) {
		t.Fatalf("issue without CA key: %v, want ErrNoCAKey", err)
	}
}

// handshake runs one mutual-TLS handshake over loopback TCP and returns
// the client's and the server's error.
func handshake(t *testing.T, server *tls.Config, client *tls.Config) (clientErr, serverErr error) {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		err = conn.(*tls.Conn).Handshake()
		if err == nil {
			_, err = conn.Read(make([]byte, 1))
		}
		done <- err
	}()
	conn, err := tls.Dial("tcp", ln.Addr().String(), client)
	if err == nil {
		// TLS 1.3 sends the client certificate after the client considers
		// the handshake done; the server reads one byte to finish its side.
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = conn.Write([]byte("x"))
		_, _ = io.ReadAll(conn)
		conn.Close()
	}
	return err, <-done
}

func TestMutualTLSAcceptsNodesOfTheSameCluster(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	b := issue(t, a.CA, "n2")
	if cErr, sErr := handshake(t, a.ServerConfig(), b.ClientConfig()); cErr != nil || sErr != nil {
		t.Fatalf("same cluster: client %v, server %v", cErr, sErr)
	}
}

func TestMutualTLSRefusesAnotherClustersCertificate(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	other, _ := bootstrap(t, "n1") // same name, different CA
	if _, sErr := handshake(t, a.ServerConfig(), other.ClientConfig()); sErr == nil {
		t.Fatal("server accepted a client certificate from another CA")
	}
	if cErr, _ := handshake(t, other.ServerConfig(), a.ClientConfig()); cErr == nil {
		t.Fatal("client accepted a server certificate from another CA")
	}
}

func TestMutualTLSRefusesAClientWithoutCertificate(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	anon := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}
	if _, sErr := handshake(t, a.ServerConfig(), anon); sErr == nil {
		t.Fatal("server accepted a client without certificate")
	}
}

func TestCertificateFromTheCAWithoutNodeURIIsNotANode(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	key, _ := pki.GenerateKey()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "n2"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.CA.Cert, &key.PublicKey, a.CA.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if _, err := pki.VerifyNode(a.Pool, []*x509.Certificate{cert}); !errors.Is(err, pki.ErrNotNodeCert) {
		t.Fatalf("verify a CA-signed certificate without node URI: %v, want ErrNotNodeCert", err)
	}
}

func TestIssueRefusesBadNamesAndKeys(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	key, _ := pki.GenerateKey()
	for _, name := range []string{"", "a/b", "a b", strings.Repeat("x", 65)} {
		if _, err := a.CA.Issue(&key.PublicKey, pki.NodeRequest{Name: name}, time.Now()); !errors.Is(err, pki.ErrBadName) {
			t.Errorf("issue for name %q: %v, want ErrBadName", name, err)
		}
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := a.CA.Issue(&rsaKey.PublicKey, pki.NodeRequest{Name: "n2"}, time.Now()); !errors.Is(err, pki.ErrUnsupportedKey) {
		t.Errorf("issue for an RSA key: %v, want ErrUnsupportedKey", err)
	}
}

func TestCSRRoundTripAndFingerprintCheck(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	key, _ := pki.GenerateKey()
	csr, err := pki.NewCSR(key, "n2")
	if err != nil {
		t.Fatal(err)
	}
	pub, name, err := pki.ParseCSR(csr)
	if err != nil || name != "n2" || !key.PublicKey.Equal(pub) {
		t.Fatalf("parse CSR: %v %q", err, name)
	}
	if _, _, err := pki.ParseCSR([]byte("garbage")); err == nil {
		t.Fatal("parsed a garbage CSR")
	}
	if err := pki.CheckFingerprint(a.CA.Cert, a.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	other, _ := bootstrap(t, "n1")
	if err := pki.CheckFingerprint(other.CA.Cert, a.Fingerprint()); !errors.Is(err, pki.ErrFingerprint) {
		t.Fatalf("fingerprint of another CA: %v, want ErrFingerprint", err)
	}
}

func TestPinnedClientAcceptsOnlyTheClusterWithThatFingerprint(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	other, _ := bootstrap(t, "n1")
	anon := func(fp string) *tls.Config { return pki.PinnedClientConfig(fp) }
	srv := a.ServerConfig()
	srv.ClientAuth = tls.VerifyClientCertIfGiven // as the cluster listener does for joiners
	if cErr, sErr := handshake(t, srv, anon(a.Fingerprint())); cErr != nil || sErr != nil {
		t.Fatalf("pinned to the right CA: client %v, server %v", cErr, sErr)
	}
	if cErr, _ := handshake(t, srv, anon(other.Fingerprint())); !errors.Is(cErr, pki.ErrFingerprint) {
		t.Fatalf("pinned to another CA: %v, want ErrFingerprint", cErr)
	}
}

func TestServerRoleIsInTheCertificate(t *testing.T) {
	a, _ := bootstrap(t, "n1")
	key, _ := pki.GenerateKey()
	srv, _ := a.CA.Issue(&key.PublicKey, pki.NodeRequest{Name: "s", Server: true}, time.Now())
	rob, _ := a.CA.Issue(&key.PublicKey, pki.NodeRequest{Name: "r"}, time.Now())
	if !pki.IsServer(srv) || pki.IsServer(rob) {
		t.Fatalf("IsServer: server cert %v, robot cert %v", pki.IsServer(srv), pki.IsServer(rob))
	}
}
