package node

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/internal/testutil"
)

// TestFirstStartWritesAdminTokenOnce: a bootstrapping node writes its
// admin token to <data-dir>/admin.token (0600, the token alone) and
// prints it once; the token is an admin's; a restart prints nothing,
// keeps the file and the token; a joining node writes none.
func TestFirstStartWritesAdminTokenOnce(t *testing.T) {
	cfg := testConfig(t, "boot", "")
	var out bytes.Buffer
	cfg.BootstrapOut = &out
	n := startNode(t, cfg)
	path := filepath.Join(cfg.DataDir, AdminTokenFile)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("admin.token mode %v, want 0600", info.Mode().Perm())
	}
	data, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(data))
	if !strings.HasPrefix(token, "casare_token_") || string(data) != token+"\n" {
		t.Fatalf("admin.token holds %q, want the token alone", data)
	}
	if strings.Count(out.String(), token) != 1 {
		t.Fatalf("first start printed:\n%s\nwant the token once", out.String())
	}
	who, err := adminClient(t, n, n).WhoAmI(t.Context())
	if err != nil || who.Role != "admin" {
		t.Fatalf("whoami with the admin token: %+v, %v", who, err)
	}

	joiner := joinConfig(t, "joiner", n)
	startNode(t, joiner)
	if _, err := os.Stat(filepath.Join(joiner.DataDir, AdminTokenFile)); !os.IsNotExist(err) {
		t.Fatalf("a joining node wrote an admin token: %v", err)
	}

	n.Close()
	out.Reset()
	n = startNode(t, cfg)
	if out.Len() != 0 {
		t.Fatalf("a restart printed:\n%s", out.String())
	}
	if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
		t.Fatal("a restart changed admin.token")
	}
	c := adminClient(t, n, n)
	// The restarted cluster elects its leader again first.
	testutil.Eventually(t, 20*time.Second, "the admin token to work after a restart", func() (bool, error) {
		who, err := c.WhoAmI(t.Context())
		return err == nil && who.Role == "admin", err
	})
}

// TestAPIOverHTTPS: with a certificate and key the API listener speaks
// HTTPS only, and a client that trusts the certificate gets through.
func TestAPIOverHTTPS(t *testing.T) {
	cfg := testConfig(t, "secure", "")
	cfg.Robot = false
	cfg.TLSCert, cfg.TLSKey = selfSigned(t)
	n := startNode(t, cfg)
	// Go's TLS server answers a plain request with a bare 400.
	if resp, err := http.Get("http://" + n.HTTPAddr() + "/health"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP on the HTTPS listener: %d", resp.StatusCode)
		}
	}
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(cfg.TLSCert)
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	token, _ := os.ReadFile(filepath.Join(cfg.DataDir, AdminTokenFile))
	c := client.New("https://"+n.HTTPAddr(), client.WithHTTPClient(hc), client.WithToken(strings.TrimSpace(string(token))))
	if who, err := c.WhoAmI(t.Context()); err != nil || who.Role != "admin" {
		t.Fatalf("whoami over HTTPS: %+v, %v", who, err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "casare-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "api.crt"), filepath.Join(dir, "api.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// TestNodeStartsOnlyOnceTheFilesTokenIsStored: a bootstrapping server
// whose data dir holds admin.token but no cluster state (the first start
// wrote the file and stopped before storing the token, or the state was
// lost) is starting, so not ready, until the token is stored: a CLI run
// once it is ready finds the file's token valid.
func TestNodeStartsOnlyOnceTheFilesTokenIsStored(t *testing.T) {
	cfg := testConfig(t, "boot", "")
	cfg.Robot = false
	token, cmd, err := newAdminToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSecretFile(filepath.Join(cfg.DataDir, AdminTokenFile), token); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, cfg)
	stored := func() bool {
		for _, tok := range n.store.APITokens() {
			if tok.ID == cmd.ID {
				return true
			}
		}
		return false
	}
	testutil.WaitFor(t, 20*time.Second, "the file's token to be stored", func() bool {
		// starting first: once it is clear the token must be there.
		if !n.starting.Load() && !stored() {
			t.Fatal("the node has started but the admin token of its data dir is not stored")
		}
		return stored()
	})
	c := client.New("http://"+n.HTTPAddr(), client.WithToken(token))
	testutil.Eventually(t, 10*time.Second, "the node to be ready", func() (bool, error) {
		return c.Ready(t.Context())
	})
	if who, err := c.WhoAmI(t.Context()); err != nil || who.Role != "admin" {
		t.Fatalf("whoami with the file's token once ready: %+v, %v", who, err)
	}
}

// TestRestartedServerHoldingItsTokenIsNotStarting: while the data dir's
// admin token is written again after a restart, a replica that already
// holds it does not keep the node starting; one that does not, does.
func TestRestartedServerHoldingItsTokenIsNotStarting(t *testing.T) {
	cfg := testConfig(t, "boot", "")
	cfg.Robot = false
	n := startNode(t, cfg)
	data, err := os.ReadFile(filepath.Join(cfg.DataDir, AdminTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := adminTokenCmd(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	app := httpApp{n}
	n.starting.Store(true)
	n.adminTokenID.Store(&cmd.ID)
	if app.stillStarting() {
		t.Error("starting although the replica holds the data dir's admin token")
	}
	other := "0190aaaa-0000-7000-8000-000000000000"
	n.adminTokenID.Store(&other)
	if !app.stillStarting() {
		t.Error("not starting although the replica lacks the data dir's admin token")
	}
}
