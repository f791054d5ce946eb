package plainjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

var testRawPaths = []string{"params", "items.*.result", "items.*.debug.variables"}

func TestContainersSkipOnlyRawPaths(t *testing.T) {
	for in, want := range map[string]int{
		`{}`:                            1,
		`[{},[],{"a":{"b":[]}}]`:        6,
		`{"params":{"x":[{},{}]}}`:      1,
		`{"PARAMS":[{},{}],"b":{}}`:     2,
		`{"a":{"params":[{},{}]}}`:      5, // not the top level's params
		`{"variables":{"result":[{}]}}`: 4,
		`{"items":[{"result":{"x":[{},{}]},"logs":[{}]}]}`:     5,
		`{"items":[{"debug":{"variables":[{},{}],"stop":1}}]}`: 4,
		`{"items":{"x":{"result":[{}]}}}`:                      5, // items is no array here
		`{"s":"{{{\"{","params":"{}"}`:                         1,
		`{"params" : {"a":"}"} , "b":{}}`:                      2,
		`{"params":1,"b":{}}`:                                  2,
		`{"a":"params","params":{}}`:                           1,
		`{"params":`:                                           1,
		`"unterminated {`:                                      0,
		`{"params":]{}`:                                        2,
		strings.Repeat("[", 1000) + `{"params":[]}` + strings.Repeat("]", 1000): 1002,
	} {
		if got := Containers([]byte(in), testRawPaths...); got != want {
			t.Errorf("Containers(%.80s) = %d, want %d", in, got, want)
		}
	}
}

// FuzzContainers: on valid JSON Containers counts what a token-by-token
// walk counts; on any input it never counts more containers than there
// are opening brackets.
func FuzzContainers(f *testing.F) {
	for _, s := range []string{
		`{"items":[{"result":{"x":[{},{}]},"logs":[{}]}]}`, `[{"PARAMS":[1,{}]},"{"]`, `{"params":"\"{"}`,
		`{"a":{"params":null,"b":{}}}`, `{"items":[{"debug":{"Variables":[[]]}}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := Containers(b, testRawPaths...)
		if brackets := bytes.Count(b, []byte("{")) + bytes.Count(b, []byte("[")); got > brackets {
			t.Fatalf("Containers(%q) = %d, more than its %d opening brackets", b, got, brackets)
		}
		if !json.Valid(b) {
			return
		}
		if want := walkContainers(t, b, testRawPaths); got != want {
			t.Fatalf("Containers(%q) = %d, the token walk counts %d", b, got, want)
		}
	})
}

// walkContainers counts as Containers does, with encoding/json's
// tokenizer.
func walkContainers(t *testing.T, b []byte, raw []string) int {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // a number too large for a float64 is still valid JSON
	type frame struct {
		object, wantKey bool
		key             string
	}
	var stack []frame
	onRawPath := func() bool {
		for _, p := range raw {
			path := strings.Split(p, ".")
			matched := len(path) == len(stack)
			for i := 0; matched && i < len(path); i++ {
				if path[i] == "*" {
					matched = !stack[i].object
				} else {
					matched = stack[i].object && strings.EqualFold(stack[i].key, path[i])
				}
			}
			if matched {
				return true
			}
		}
		return false
	}
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
		opens := isDelim && (delim == '{' || delim == '[')
		if skip != 0 {
			switch {
			case opens:
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
			stack[top].key = tok.(string)
			if onRawPath() {
				skip = -1
			}
			continue
		}
		switch {
		case opens:
			n++
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
