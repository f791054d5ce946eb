package backup_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/casare/casare/backup"
	"github.com/casare/casare/consensus"
)

func testKey(t testing.TB, b byte) []byte {
	t.Helper()
	return bytes.Repeat([]byte{b}, backup.KeySize)
}

func sample() backup.Contents {
	return backup.Contents{
		CreatedAt: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), Node: "n1", Index: 42,
		Counts:    consensus.BackupCounts{Workflows: 1, Jobs: 2},
		State:     json.RawMessage(`{"version":1,"params":"<a & b>"}`),
		VaultKeys: consensus.VaultKeys{Current: "k1", Keys: map[string][]byte{"k1": bytes.Repeat([]byte{7}, 32)}},
		CACert:    []byte("-----BEGIN CERTIFICATE-----\n"), CAKey: []byte("ca key"),
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	key := testKey(t, 1)
	file, err := backup.Seal(sample(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range [][]byte{[]byte("ca key"), []byte("params"), bytes.Repeat([]byte{7}, 32)} {
		if bytes.Contains(file, secret) {
			t.Errorf("the file holds %q in clear", secret)
		}
	}
	got, err := backup.Open(file, key)
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	if got.Node != want.Node || got.Index != want.Index || got.Counts != want.Counts || !got.CreatedAt.Equal(want.CreatedAt) ||
		string(got.State) != string(want.State) || string(got.CAKey) != "ca key" || !bytes.Equal(got.VaultKeys.Keys["k1"], want.VaultKeys.Keys["k1"]) {
		t.Errorf("opened %+v, want %+v", got, want)
	}
}

func TestOpenRefusesDamage(t *testing.T) {
	key := testKey(t, 1)
	file, err := backup.Seal(sample(), key)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(file)
		c[i] ^= 0x40
		return c
	}
	cases := []struct {
		name string
		file []byte
		key  []byte
		want error
	}{
		{"wrong key", file, testKey(t, 2), backup.ErrWrongKey},
		{"truncated", file[:len(file)-10], key, backup.ErrTruncated},
		{"cut in the header", file[:20], key, backup.ErrTruncated},
		{"bit flipped in the body", flip(len(file) - 30), key, backup.ErrCorrupted},
		{"bit flipped in the nonce", flip(40), key, backup.ErrCorrupted},
		{"bit flipped in the length", flip(33), key, backup.ErrCorrupted},
		{"trailing bytes", append(bytes.Clone(file), 0), key, backup.ErrCorrupted},
		{"not a snapshot", []byte("PK\x03\x04 a zip file"), key, backup.ErrNotSnapshot},
		{"empty", nil, key, backup.ErrNotSnapshot},
		{"future format", flip(16), key, backup.ErrFormat},
		{"short key", file, key[:16], backup.ErrBadKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := backup.Open(tc.file, tc.key)
			if !errors.Is(err, tc.want) {
				t.Errorf("Open: %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	key, err := backup.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	got, err := backup.ParseKey(append([]byte("  "), backup.EncodeKey(key)...))
	if err != nil || !bytes.Equal(got, key) {
		t.Fatalf("ParseKey(EncodeKey(k)) = %x, %v", got, err)
	}
	for _, bad := range []string{"", "not base64!", "c2hvcnQ=", string(backup.EncodeKey(key[:31]))} {
		if _, err := backup.ParseKey([]byte(bad)); !errors.Is(err, backup.ErrBadKey) {
			t.Errorf("ParseKey(%q): %v, want ErrBadKey", bad, err)
		}
	}
}

// FuzzOpen feeds the decoder any bytes, sealed or not: it must refuse
// all that is not an intact file sealed with the key, and never panic.
func FuzzOpen(f *testing.F) {
	key := testKey(f, 1)
	file, err := backup.Seal(sample(), key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(file)
	f.Add(file[:60])
	f.Add([]byte("casare-snapshot\n\x01"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := backup.Open(data, key)
		// Only files sealed with the key open (GCM authenticates every
		// byte), and the only contents ever sealed with it are sample's.
		if err == nil && (c.Node != "n1" || string(c.State) != string(sample().State)) {
			t.Fatalf("a forged file opened: %+v", c)
		}
	})
}
