// Package backup is the file format of `casare operator snapshot`: the
// whole replicated state of a cluster together with what a restore needs
// beside it (the vault keys and the cluster CA), sealed with a key the
// operator holds.
//
// A file is a fixed header and one AES-256-GCM ciphertext:
//
//	magic      16 bytes  "casare-snapshot\n"
//	format      1 byte   1
//	key id      8 bytes  the first 8 bytes of HMAC-SHA256(key, "casare snapshot key id")
//	length      8 bytes  big endian, the length of the ciphertext
//	nonce      12 bytes  random
//	ciphertext           AES-256-GCM of gzip(JSON of Contents), the header as additional data
//
// The GCM tag authenticates the header and the contents, so a file with
// a flipped bit anywhere fails to open; the length tells a truncated file
// from a corrupted one, and the key id a wrong key from both. The vault
// keys and the CA key are inside the ciphertext only: they never leave a
// node in clear.
//
// The operator's key is 32 random bytes, kept in a file as standard
// base64 (44 characters and a newline): `casare operator snapshot keygen`
// writes one, and so does `openssl rand -base64 32`.
package backup

import (
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/casare/casare/consensus"
)

// KeySize is the length of an operator's snapshot key: AES-256.
const KeySize = 32

// Format is the file format version this build writes and reads.
const Format = 1

const (
	magic     = "casare-snapshot\n"
	keyIDLen  = 8
	nonceLen  = 12
	headerLen = len(magic) + 1 + keyIDLen + 8 + nonceLen
	// MaxContentBytes bounds the decompressed contents a file may hold, so
	// that no file can make a node inflate it without end.
	MaxContentBytes = 4 << 30
)

// Errors a file is refused with; each names what is wrong.
var (
	ErrNotSnapshot = errors.New("not a Casare snapshot file")
	ErrFormat      = errors.New("unsupported snapshot format")
	ErrTruncated   = errors.New("snapshot file is truncated")
	ErrWrongKey    = errors.New("snapshot was sealed with another key")
	ErrCorrupted   = errors.New("snapshot file is corrupted")
	ErrBadKey      = errors.New("invalid snapshot key")
)

// Contents is what a snapshot file carries.
type Contents struct {
	CreatedAt time.Time `json:"created_at"`
	// Node is the server the state was read from, Index the Raft index
	// the state includes.
	Node  string `json:"node"`
	Index uint64 `json:"index"`
	// Counts summarises State, so that a file can be described without
	// decoding the state.
	Counts consensus.BackupCounts `json:"counts"`
	// State is the replicated state in the FSM's snapshot encoding.
	State json.RawMessage `json:"state"`
	// VaultKeys open the secrets' ciphertexts in State.
	VaultKeys consensus.VaultKeys `json:"vault_keys"`
	// CACert and CAKey are the cluster CA (PEM), so that a cluster
	// rebuilt from this file can keep the identity robots pinned.
	CACert []byte `json:"ca_cert,omitempty"`
	CAKey  []byte `json:"ca_key,omitempty"`
}

// NewKey draws a new operator key.
func NewKey() ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("draw snapshot key: %w", err)
	}
	return key, nil
}

// EncodeKey returns key as a key file holds it: base64 and a newline.
func EncodeKey(key []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(key) + "\n")
}

// ParseKey reads a key file's contents: 32 bytes in standard base64,
// surrounding white space ignored.
func ParseKey(data []byte) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: not standard base64 (make one with `casare operator snapshot keygen FILE` or `openssl rand -base64 32`): %v", ErrBadKey, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d (make one with `casare operator snapshot keygen FILE` or `openssl rand -base64 32`)", ErrBadKey, len(key), KeySize)
	}
	return key, nil
}

// keyID names a key without revealing it.
func keyID(key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("casare snapshot key id"))
	return m.Sum(nil)[:keyIDLen]
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrBadKey, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return cipher.NewGCM(block)
}

// Seal encodes c and encrypts it under key into a snapshot file.
func Seal(c Contents, key []byte) ([]byte, error) {
	gcm, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	var plain bytes.Buffer
	zw := gzip.NewWriter(&plain)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false) // the state's raw JSON keeps its bytes
	if err := enc.Encode(c); err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("compress snapshot: %w", err)
	}
	return seal(plain.Bytes(), key, gcm)
}

// seal encrypts the compressed contents and prefixes the header.
func seal(plain, key []byte, gcm cipher.AEAD) ([]byte, error) {
	header := make([]byte, headerLen, headerLen+len(plain)+gcm.Overhead())
	n := copy(header, magic)
	header[n] = Format
	n++
	n += copy(header[n:], keyID(key))
	binary.BigEndian.PutUint64(header[n:], uint64(len(plain)+gcm.Overhead()))
	n += 8
	if _, err := rand.Read(header[n : n+nonceLen]); err != nil {
		return nil, fmt.Errorf("draw nonce: %w", err)
	}
	return gcm.Seal(header, header[n:n+nonceLen], plain, header), nil
}

// Open checks, decrypts and decodes a snapshot file. Any damage is
// refused with one of the package's errors, and nothing is returned.
func Open(file, key []byte) (Contents, error) {
	gcm, err := newAEAD(key)
	if err != nil {
		return Contents{}, err
	}
	if len(file) < len(magic) || string(file[:len(magic)]) != magic {
		return Contents{}, fmt.Errorf("%w: it does not start with %q", ErrNotSnapshot, magic)
	}
	if len(file) < headerLen {
		return Contents{}, fmt.Errorf("%w: %d bytes is shorter than the %d-byte header", ErrTruncated, len(file), headerLen)
	}
	header, body := file[:headerLen], file[headerLen:]
	n := len(magic)
	if header[n] != Format {
		return Contents{}, fmt.Errorf("%w %d: this build reads format %d", ErrFormat, header[n], Format)
	}
	n++
	if !hmac.Equal(header[n:n+keyIDLen], keyID(key)) {
		return Contents{}, fmt.Errorf("%w: the key file given is not the one it was saved with", ErrWrongKey)
	}
	n += keyIDLen
	want := binary.BigEndian.Uint64(header[n:])
	n += 8
	switch {
	case uint64(len(body)) < want:
		return Contents{}, fmt.Errorf("%w: %d of %d bytes after the header", ErrTruncated, len(body), want)
	case uint64(len(body)) > want:
		return Contents{}, fmt.Errorf("%w: %d bytes after the header, the header says %d", ErrCorrupted, len(body), want)
	}
	plain, err := gcm.Open(nil, header[n:n+nonceLen], body, header)
	if err != nil {
		return Contents{}, fmt.Errorf("%w: its checksum (the AES-GCM tag) does not match", ErrCorrupted)
	}
	zr, err := gzip.NewReader(bytes.NewReader(plain))
	if err != nil {
		return Contents{}, fmt.Errorf("%w: decompress: %v", ErrCorrupted, err)
	}
	var c Contents
	dec := json.NewDecoder(io.LimitReader(zr, MaxContentBytes))
	if err := dec.Decode(&c); err != nil {
		return Contents{}, fmt.Errorf("%w: decode: %v", ErrCorrupted, err)
	}
	if len(c.State) == 0 {
		return Contents{}, fmt.Errorf("%w: it holds no state", ErrCorrupted)
	}
	return c, nil
}
