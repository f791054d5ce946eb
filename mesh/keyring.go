package mesh

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// GossipKeySize is the size of a gossip key: 32 bytes selects AES-256.
const GossipKeySize = 32

// ErrNoKeyring is returned by keyring operations of a Mesh started
// without encryption.
var ErrNoKeyring = errors.New("mesh: gossip is not encrypted")

// NewGossipKey returns a fresh random gossip key.
func NewGossipKey() ([]byte, error) {
	key := make([]byte, GossipKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate gossip key: %w", err)
	}
	return key, nil
}

// EncodeGossipKey and DecodeGossipKey convert a key to and from the
// base64 form kept in files and sent between nodes.
func EncodeGossipKey(key []byte) string { return base64.StdEncoding.EncodeToString(key) }

func DecodeGossipKey(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("gossip key is not base64: %w", err)
	}
	if len(key) != GossipKeySize {
		return nil, fmt.Errorf("gossip key has %d bytes, want %d", len(key), GossipKeySize)
	}
	return key, nil
}

// Keys returns the keys this member accepts, the primary (the one it
// encrypts with) first.
func (m *Mesh) Keys() ([][]byte, error) {
	kr := m.keyring
	if kr == nil {
		return nil, ErrNoKeyring
	}
	primary := kr.GetPrimaryKey()
	keys := [][]byte{primary}
	for _, k := range kr.GetKeys() {
		if string(k) != string(primary) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// InstallKey makes this member accept messages encrypted with key too.
func (m *Mesh) InstallKey(key []byte) error {
	kr := m.keyring
	if kr == nil {
		return ErrNoKeyring
	}
	return kr.AddKey(key)
}

// UseKey makes key, which must be installed, the one this member
// encrypts with.
func (m *Mesh) UseKey(key []byte) error {
	kr := m.keyring
	if kr == nil {
		return ErrNoKeyring
	}
	return kr.UseKey(key)
}

// RemoveKey stops accepting key; the primary key cannot be removed.
func (m *Mesh) RemoveKey(key []byte) error {
	kr := m.keyring
	if kr == nil {
		return ErrNoKeyring
	}
	return kr.RemoveKey(key)
}

// NewKeyring builds a keyring from keys, the first of which is primary.
func NewKeyring(keys [][]byte) (*memberlist.Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("mesh: a keyring needs at least one key")
	}
	kr, err := memberlist.NewKeyring(keys[1:], keys[0])
	if err != nil {
		return nil, fmt.Errorf("mesh: build gossip keyring: %w", err)
	}
	return kr, nil
}
