package tunnel

import (
	"bytes"
	"crypto/ecdsa"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateCert(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node") // created on first use
	first, err := LoadOrCreateCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := first.PrivateKey.(*ecdsa.PrivateKey); !ok {
		t.Fatalf("key is %T, want ECDSA", first.PrivateKey)
	}
	info, err := os.Stat(filepath.Join(dir, keyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Fatalf("key file mode %o, want 600", perm)
	}

	again, err := LoadOrCreateCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Certificate[0], again.Certificate[0]) {
		t.Fatal("a restart made a new certificate")
	}

	// A certificate whose key is gone is not silently replaced.
	if err := os.Remove(filepath.Join(dir, keyFileName)); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateCert(dir); err == nil {
		t.Fatal("loaded a certificate without its key")
	}

	// A key without a certificate is an interrupted first boot: start over.
	if err := os.Remove(filepath.Join(dir, certFileName)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, keyFileName), []byte("half-written"), 0o600); err != nil {
		t.Fatal(err)
	}
	fresh, err := LoadOrCreateCert(dir)
	if err != nil {
		t.Fatalf("recovering from an interrupted first boot: %v", err)
	}
	if bytes.Equal(fresh.Certificate[0], first.Certificate[0]) {
		t.Fatal("expected a new certificate")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		t.Fatalf("dir holds %d entries, want the two PEM files and no temporary files", len(entries))
	}
}
