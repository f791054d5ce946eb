package backup

import (
	"bytes"
	"compress/gzip"
	"testing"
)

// FuzzOpenContents reaches past the authentication: whatever a key
// holder sealed (any bytes, compressed or not), Open decodes it or
// refuses it with ErrCorrupted, and never panics.
func FuzzOpenContents(f *testing.F) {
	key := bytes.Repeat([]byte{3}, KeySize)
	gcm, err := newAEAD(key)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"node":"n1","state":{"version":1}}`), true)
	f.Add([]byte(`{"state":null}`), true)
	f.Add([]byte(`not json`), false)
	f.Fuzz(func(t *testing.T, plain []byte, compress bool) {
		if compress {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write(plain)
			zw.Close()
			plain = buf.Bytes()
		}
		file, err := seal(plain, key, gcm)
		if err != nil {
			t.Fatal(err)
		}
		c, err := Open(file, key)
		if err == nil && len(c.State) == 0 {
			t.Fatalf("opened contents without a state: %+v", c)
		}
	})
}
