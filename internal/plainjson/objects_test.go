package plainjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestObjectsSkipsRawValues(t *testing.T) {
	for in, want := range map[string]int{
		`{}`:                     1,
		`[{},{},{"a":{"b":{}}}]`: 5,
		`{"items":[{"result":{"x":[{},{}]},"logs":[{}]}]}`: 3,
		`{"items":[{"Result":[{},{}]}]}`:                   2,
		`{"s":"{{{\"{","result":"{}"}`:                     1,
		`{"result" : {"a":"}"} , "b":{}}`:                  2,
		`{"result":1,"b":{}}`:                              2,
		`{"a":"result","result":{}}`:                       1,
		`{"result":`:                                       1,
		`"unterminated {`:                                  0,
		`{"result":]{}`:                                    2,
	} {
		if got := Objects([]byte(in), "result"); got != want {
			t.Errorf("Objects(%s) = %d, want %d", in, got, want)
		}
	}
}

// FuzzObjects: on valid JSON Objects counts what a token-by-token walk
// counts; on any input it never counts more objects than there are
// opening braces.
func FuzzObjects(f *testing.F) {
	for _, s := range []string{`{"items":[{"result":{"x":[{},{}]},"logs":[{}]}]}`, `[{"RESULT":[1,{}]},"{"]`, `{"result":"\"{"}`, `{"a":{"result":null,"b":{}}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Objects(b, "result")
		if braces := bytes.Count(b, []byte("{")); got > braces {
			t.Fatalf("Objects(%q) = %d, more than its %d braces", b, got, braces)
		}
		if !json.Valid(b) {
			return
		}
		if want := walkObjects(t, b, "result"); got != want {
			t.Fatalf("Objects(%q) = %d, the token walk counts %d", b, got, want)
		}
	})
}

// walkObjects counts as Objects does, with encoding/json's tokenizer.
func walkObjects(t *testing.T, b []byte, raw string) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct{ object, wantKey bool }
	var stack []frame
	n, skip := 0, 0 // skip: depth inside a raw value, or -1 for its first token
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("token walk of valid %q: %v", b, err)
		}
		delim, isDelim := tok.(json.Delim)
		if skip != 0 {
			switch {
			case isDelim && (delim == '{' || delim == '['):
				skip = max(skip, 0) + 1
			case isDelim:
				skip--
			case skip < 0:
				skip = 0
			}
			if skip == 0 {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey && !isDelim {
			stack[top].wantKey = false
			if key, _ := tok.(string); strings.EqualFold(key, raw) {
				skip = -1
			}
			continue
		}
		switch {
		case isDelim && (delim == '{' || delim == '['):
			if delim == '{' {
				n++
			}
			stack = append(stack, frame{object: delim == '{', wantKey: true})
			continue
		case isDelim:
			stack = stack[:top]
			top--
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}
