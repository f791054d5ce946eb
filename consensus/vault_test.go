package consensus

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyringSealsUnderTheNameAndKeepsTheFilePrivate checks the keyring:
// a value opens only under the name it was sealed for, the key file is
// mode 0600 and holds no value, and a malformed ring is refused.
func TestKeyringSealsUnderTheNameAndKeepsTheFilePrivate(t *testing.T) {
	dir := t.TempDir()
	k, err := openKeyring(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := k.create(); err != nil {
		t.Fatal(err)
	}
	id := k.snapshot().Current
	sealed, err := k.seal(id, "DB", []byte("hunter2-value"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("hunter2")) {
		t.Fatal("the ciphertext holds the value")
	}
	if got, err := k.open(id, "DB", sealed); err != nil || string(got) != "hunter2-value" {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := k.open(id, "OTHER", sealed); err == nil {
		t.Fatal("a ciphertext opened under another secret's name")
	}
	if _, err := k.open("k-unknown", "DB", sealed); err == nil || !strings.Contains(err.Error(), "vault key missing") {
		t.Fatalf("unknown key: %v", err)
	}
	info, err := os.Stat(filepath.Join(dir, VaultKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}
	again, err := openKeyring(dir)
	if err != nil || again.snapshot().Current != id {
		t.Fatalf("reopened ring: %+v %v", again.snapshot(), err)
	}
	bad := VaultKeys{Current: "x", Keys: map[string][]byte{"x": []byte("short")}}
	if err := k.install(bad, true); err == nil {
		t.Fatal("a ring with a short key was installed")
	}
	if got := k.snapshot().Current; got != id {
		t.Fatalf("a refused ring changed the current key to %q", got)
	}
}

// TestVaultCommandsKeepRulesInTheFSM checks the vault's commands: a set
// sealed under a key the cluster no longer uses is a conflict, a retried
// set returns its first version, a rotation skips secrets changed under
// it, and the snapshot holds ciphertexts and metadata only.
func TestVaultCommandsKeepRulesInTheFSM(t *testing.T) {
	h := newHarness(t)
	m := h.mustApply(cmdPutSecret, PutSecretCmd{Name: "A", KeyID: "k1", Ciphertext: []byte("c1"), RequestID: "r1"}).(SecretMeta)
	if m.Version != 1 {
		t.Fatalf("first set: %+v", m)
	}
	if again := h.mustApply(cmdPutSecret, PutSecretCmd{Name: "A", KeyID: "k1", Ciphertext: []byte("c1"), RequestID: "r1"}).(SecretMeta); again.Version != 1 {
		t.Fatalf("retried set made version %d", again.Version)
	}
	if _, err := h.apply(cmdPutSecret, PutSecretCmd{Name: "bad name", KeyID: "k1", Ciphertext: []byte("c")}); !IsCode(err, CodeInvalid) {
		t.Fatalf("bad name: %v", err)
	}
	h.mustApply(cmdPutSecret, PutSecretCmd{Name: "A", KeyID: "k1", Ciphertext: []byte("c2"), RequestID: "r2"})
	res := h.mustApply(cmdRotateVault, RotateVaultCmd{KeyID: "k2", Secrets: []RotatedSecret{{Name: "A", Version: 1, Ciphertext: []byte("old")}}}).(RotateVaultResult)
	if res.Rotated != 0 || len(res.Stale) != 1 {
		t.Fatalf("rotation of a changed secret: %+v", res)
	}
	if _, err := h.apply(cmdPutSecret, PutSecretCmd{Name: "A", KeyID: "k1", Ciphertext: []byte("c3")}); !IsCode(err, CodeConflict) {
		t.Fatalf("a set sealed under the retired key: %v", err)
	}
	res = h.mustApply(cmdRotateVault, RotateVaultCmd{KeyID: "k2", Secrets: []RotatedSecret{{Name: "A", Version: 2, Ciphertext: []byte("c-k2")}}}).(RotateVaultResult)
	if res.Rotated != 1 {
		t.Fatalf("rotation: %+v", res)
	}
	snap := string(snapshotBytes(t, h.f))
	if !strings.Contains(snap, `"key_id":"k2"`) || strings.Contains(snap, `"key_id":"k1"`) {
		t.Fatalf("snapshot after the rotation: %s", snap)
	}
	h.mustApply(cmdDeleteSecret, DeleteSecretCmd{Name: "A", RequestID: "d1"})
	if _, err := h.apply(cmdDeleteSecret, DeleteSecretCmd{Name: "A", RequestID: "d1"}); err != nil {
		t.Fatalf("retried delete: %v", err)
	}
	if _, err := h.apply(cmdDeleteSecret, DeleteSecretCmd{Name: "A", RequestID: "d2"}); !IsCode(err, CodeNotFound) {
		t.Fatalf("delete of a missing secret: %v", err)
	}
}
