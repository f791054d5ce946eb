package pki_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/pki"
)

func TestBootstrapKeepsACAPutInPlace(t *testing.T) {
	old, _ := bootstrap(t, "old")
	p := pki.PathsIn(t.TempDir())
	if err := p.SaveCA(old.CA); err != nil {
		t.Fatal(err)
	}
	id, err := p.Bootstrap(pki.NodeRequest{Name: "m1", Server: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if id.Fingerprint() != old.Fingerprint() {
		t.Errorf("bootstrap made CA %s, want the one in place %s", id.Fingerprint(), old.Fingerprint())
	}

	t.Run("a CA without its key is refused", func(t *testing.T) {
		p := pki.PathsIn(t.TempDir())
		if err := p.SaveCA(&pki.CA{Cert: old.CA.Cert}); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Bootstrap(pki.NodeRequest{Name: "m1", Server: true}, time.Now()); err == nil || !strings.Contains(err.Error(), "no key") {
			t.Errorf("bootstrap with a CA without key: %v", err)
		}
	})
	t.Run("a broken CA is refused, not replaced", func(t *testing.T) {
		p := pki.PathsIn(t.TempDir())
		if err := p.SaveCA(old.CA); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p.CACert(), []byte("garbage"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Bootstrap(pki.NodeRequest{Name: "m1", Server: true}, time.Now()); err == nil {
			t.Error("bootstrap replaced a broken CA")
		}
	})
}
