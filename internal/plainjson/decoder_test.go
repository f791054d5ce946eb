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

// TestObjectTakesEachKnownKeyOnce: Object reads the fields it is given,
// each at most once and spelt exactly, and refuses anything else.
func TestObjectTakesEachKnownKeyOnce(t *testing.T) {
	for in, want := range map[string]bool{
		`{}`: true, ` {"a":1 , "b":2} `: true, `{"b":2,"a":1}`: true,
		`{"a":1,"a":2}`: false, `{"A":1}`: false, `{"c":1}`: false, `{"a":1,}`: false, `{"a":1`: false, `{"a" 1}`: false, `[]`: false,
	} {
		d := Decoder{Buf: []byte(in)}
		ok := d.Object([]string{"a", "b"}, func(int) bool { _, ok := d.Int(); return ok })
		if ok != want {
			t.Errorf("Object(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

// TestSkipTakesOneValue: Skip returns the next value's bytes whole, and
// refuses where there is none.
func TestSkipTakesOneValue(t *testing.T) {
	for in, want := range map[string]string{
		` {"a":["}",1]},`: `{"a":["}",1]}`, `"x\"y"]`: `"x\"y"`, `-12}`: `-12`, `true`: `true`,
		``: "", ` `: "", `,`: "", `}`: "", `"ab\`: "",
	} {
		d := Decoder{Buf: []byte(in)}
		got, ok := d.Skip()
		if ok != (want != "") || string(got) != want {
			t.Errorf("Skip(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

// TestPlainRawIsWhatMarshalWritesAsItIs: PlainRaw holds for raw values
// json.Marshal writes unchanged, and CompactASCII also for those with
// HTML characters, which only Marshal escapes.
func TestPlainRawIsWhatMarshalWritesAsItIs(t *testing.T) {
	for _, in := range []string{`{"a":[1,"x y"]}`, `"<b>"`, `{"a": 1}`, ` 1`, `"é"`, `null`, `{"a":`, `"\u003c"`} {
		marshalled, err := json.Marshal(json.RawMessage(in))
		unchanged := err == nil && string(marshalled) == in && in != "null"
		if PlainRaw([]byte(in)) && !unchanged {
			t.Errorf("PlainRaw(%q) holds, but json.Marshal writes %q (%v)", in, marshalled, err)
		}
	}
	for in, want := range map[string][2]bool{`{"a":[1,"x y"]}`: {true, true}, `"<b>"`: {false, true}, `{"a": 1}`: {false, false}, `"é"`: {false, false}, `null`: {false, true}} {
		if got := [2]bool{PlainRaw([]byte(in)), CompactASCII([]byte(in))}; got != want {
			t.Errorf("PlainRaw, CompactASCII(%q) = %v, want %v", in, got, want)
		}
	}
}
