package plainjson

import (
	"encoding/json"
	"testing"
)

// FuzzRaw: Raw takes only what json.Valid takes, a single value other
// than null, and never reads past the input.
func FuzzRaw(f *testing.F) {
	for _, s := range []string{`{"a":[1,"]"]}`, `"x\"y"`, `12`, `null`, `[1,`, ` true `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d := Decoder{Buf: b}
		raw, ok := d.Raw()
		if ok && (!json.Valid(raw) || string(raw) == "null" || d.Pos > len(b)) {
			t.Fatalf("Raw(%q) took %q", b, raw)
		}
	})
}

// TestNumbersInPlainForm: Int and Uint take integers as encoding/json
// writes them and refuse every other spelling.
func TestNumbersInPlainForm(t *testing.T) {
	for in, want := range map[string]bool{"0": true, "-12": true, " 7": true, "01": false, "1.0": false, "1e3": false, "-": false, "": false, "99999999999999999999": false} {
		d := Decoder{Buf: []byte(in)}
		if _, ok := d.Int(); ok != want {
			t.Errorf("Int(%q) ok = %v, want %v", in, ok, want)
		}
	}
	for in, want := range map[string]bool{"0": true, "18446744073709551615": true, "-1": false, "18446744073709551616": false, "00": false} {
		d := Decoder{Buf: []byte(in)}
		if _, ok := d.Uint(); ok != want {
			t.Errorf("Uint(%q) ok = %v, want %v", in, ok, want)
		}
	}
}
