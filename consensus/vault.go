package consensus

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// The vault key never enters Raft: every server keeps it in its data dir
// (VaultKeyFile, mode 0600) and Raft replicates only ciphertexts, each
// naming the key it was sealed with. A server without the key still
// replicates ciphertexts; it only cannot open them. Keys reach servers
// in two ways: the join response carries the leader's keyring
// (JoinResponse.VaultKeys), and a rotation pushes the new keyring to every
// server before and after it re-encrypts.

// VaultKeyFile is the name, inside the data dir, of the vault keyring.
const VaultKeyFile = "vault.key"

// vaultKeyBytes is the key length: AES-256.
const vaultKeyBytes = 32

// ErrVaultKeyMissing means this server lacks the key a ciphertext names.
var ErrVaultKeyMissing = errors.New("vault key missing on this server")

// VaultKeys is a keyring: Current seals new values, every key in Keys can
// open. During a rotation the ring holds the old and the new key.
type VaultKeys struct {
	Current string            `json:"current"`
	Keys    map[string][]byte `json:"keys"`
}

// keyring is a server's vault keys, kept in its data dir.
type keyring struct {
	path string
	mu   sync.RWMutex
	keys VaultKeys
}

func openKeyring(dataDir string) (*keyring, error) {
	k := &keyring{path: filepath.Join(dataDir, VaultKeyFile)}
	data, err := os.ReadFile(k.path)
	if errors.Is(err, os.ErrNotExist) {
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read vault key: %w", err)
	}
	if err := json.Unmarshal(data, &k.keys); err != nil {
		return nil, fmt.Errorf("vault key file %s: %w", k.path, err)
	}
	return k, nil
}

// newVaultKey draws a fresh key and its id.
func newVaultKey() (string, []byte, error) {
	key := make([]byte, vaultKeyBytes)
	id := make([]byte, 8)
	if _, err := rand.Read(key); err != nil {
		return "", nil, fmt.Errorf("draw vault key: %w", err)
	}
	if _, err := rand.Read(id); err != nil {
		return "", nil, fmt.Errorf("draw vault key id: %w", err)
	}
	return "k" + hex.EncodeToString(id), key, nil
}

// create makes the cluster's first key; it is called at bootstrap.
func (k *keyring) create() error {
	id, key, err := newVaultKey()
	if err != nil {
		return err
	}
	return k.install(VaultKeys{Current: id, Keys: map[string][]byte{id: key}}, true)
}

// snapshot returns a copy of the ring.
func (k *keyring) snapshot() VaultKeys {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := VaultKeys{Current: k.keys.Current, Keys: make(map[string][]byte, len(k.keys.Keys))}
	for id, key := range k.keys.Keys {
		out.Keys[id] = append([]byte(nil), key...)
	}
	return out
}

// install writes ring to disk (atomically, mode 0600) and uses it. With
// replace false the keys are merged into the ring (a joiner learning the
// cluster's keys, a rotation adding one); with replace true the ring
// becomes exactly ring (a rotation retiring the old key).
func (k *keyring) install(ring VaultKeys, replace bool) error {
	if ring.Current != "" {
		if key, ok := ring.Keys[ring.Current]; !ok || len(key) != vaultKeyBytes {
			return fmt.Errorf("vault keyring names current key %q but holds no 32-byte key under it", ring.Current)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	next := VaultKeys{Current: ring.Current, Keys: map[string][]byte{}}
	if !replace {
		for id, key := range k.keys.Keys {
			next.Keys[id] = key
		}
		if next.Current == "" {
			next.Current = k.keys.Current
		}
	}
	for id, key := range ring.Keys {
		if len(key) != vaultKeyBytes {
			return fmt.Errorf("vault key %q is %d bytes, not %d", id, len(key), vaultKeyBytes)
		}
		next.Keys[id] = append([]byte(nil), key...)
	}
	data, err := json.Marshal(next)
	if err != nil {
		return fmt.Errorf("encode vault key: %w", err)
	}
	tmp := k.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write vault key: %w", err)
	}
	if err := os.Rename(tmp, k.path); err != nil {
		return fmt.Errorf("install vault key: %w", err)
	}
	k.keys = next
	return nil
}

func (k *keyring) aead(id string) (cipher.AEAD, error) {
	k.mu.RLock()
	key, ok := k.keys.Keys[id]
	k.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: key %q", ErrVaultKeyMissing, id)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("vault key %q: %w", id, err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts value under key id. The secret's name is the additional
// data, so a ciphertext moved to another name does not open.
func (k *keyring) seal(id, name string, value []byte) ([]byte, error) {
	gcm, err := k.aead(id)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, value, []byte(name)), nil
}

// open decrypts a ciphertext sealed by seal.
func (k *keyring) open(id, name string, sealed []byte) ([]byte, error) {
	gcm, err := k.aead(id)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, fmt.Errorf("secret %q: ciphertext too short", name)
	}
	nonce, body := sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():]
	out, err := gcm.Open(nil, nonce, body, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("secret %q: open with key %q: %w", name, id, err)
	}
	return out, nil
}
