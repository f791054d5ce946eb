//go:build unix

package cluster

import (
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
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
)

// TestCLIBesideTheFirstNodeNeedsNoToken replays the README's quick start
// with real processes: `casare node start` in a directory writes
// ./casare-data/admin.token and prints the token once; the CLI run in
// that directory finds it with no flag, while the same command elsewhere
// is refused with a message that says how to give a token. A restart
// prints no token again.
func TestCLIBesideTheFirstNodeNeedsNoToken(t *testing.T) {
	c := newCluster(t)
	n := c.add("solo", []string{"node", "start"})
	i := slices.Index(n.args, "--data-dir")
	n.args[i+1] = "casare-data" // the default, relative to the node's directory
	n.tokenFile = filepath.Join(n.dir, "casare-data", "admin.token")
	n.client = client.New(serverURL(n), client.WithTimeout(callTimeout), withTokenFile(n.tokenFile))
	n.start()
	n.waitReady()

	data, err := os.ReadFile(n.tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(data))
	if got := strings.Count(n.logText(), token); got != 1 {
		t.Fatalf("the node printed its admin token %d times, want once", got)
	}
	status := func(dir string) (string, error) {
		cmd := exec.CommandContext(t.Context(), casareBin, "workflows", "--server", serverURL(n))
		cmd.Dir = dir
		cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "CASARE_TOKEN=") })
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := status(n.dir); err != nil {
		t.Fatalf("casare workflows beside the node: %v\n%s", err, out)
	}
	out, err := status(t.TempDir())
	if err == nil || !strings.Contains(out, "HTTP 401") || !strings.Contains(out, "--token") {
		t.Fatalf("casare workflows elsewhere without a token: %v\n%s", err, out)
	}

	n.kill()
	n.restart()
	if got := strings.Count(n.logText(), token); got != 1 {
		t.Fatalf("after a restart the log holds the admin token %d times, want once", got)
	}
	if out, err := status(n.dir); err != nil {
		t.Fatalf("casare workflows after a restart: %v\n%s", err, out)
	}
}

// TestAPIOverHTTPSOnly runs a node process with --tls-cert/--tls-key: the
// API answers over HTTPS, a plain-HTTP request gets no API answer, and
// the CLI (trusting the certificate through SSL_CERT_FILE) works with
// the admin token.
func TestAPIOverHTTPSOnly(t *testing.T) {
	c := newCluster(t)
	certFile, keyFile := writeSelfSigned(t)
	n := c.add("tls1", []string{"node", "start", "--tls-cert", certFile, "--tls-key", keyFile, "--robot=false"})
	pool := x509.NewCertPool()
	pemBytes, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pemBytes)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	n.client = client.New("https://"+n.http, client.WithHTTPClient(hc), client.WithTimeout(callTimeout), withTokenFile(n.tokenFile))
	n.start()
	n.waitReady()

	if _, err := n.client.Cluster(t.Context()); err != nil {
		t.Fatalf("cluster over HTTPS: %v", err)
	}
	if resp, err := http.Get("http://" + n.http + "/api/v1/cluster"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("plain HTTP to the HTTPS listener: %d", resp.StatusCode)
		}
	}
	cmd := exec.CommandContext(t.Context(), casareBin, "status", "--server", "https://"+n.http, "--token-file", n.tokenFile)
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+certFile)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "tls1") {
		t.Fatalf("casare status over HTTPS: %v\n%s", err, out)
	}
}

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T) (certFile, keyFile string) {
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
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
