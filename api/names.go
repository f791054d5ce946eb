package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names and identifiers that users give (workflow names, node ids, tags,
// robot names, keys) end up in terminals, logs, URLs and the dashboard.
// A NUL, an escape sequence or a right-to-left override in one of them
// can rewrite what an operator sees, so they are refused when stored
// rather than escaped everywhere they are shown.

// checkName refuses a user-supplied identifier that is not valid UTF-8
// or holds a control character or a bidirectional formatting character.
// field names it in the error.
func checkName(field, value string) error {
	for i := 0; i < len(value); {
		r, size := utf8.DecodeRuneInString(value[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return nameError(field, "is not valid UTF-8 (byte 0x%02x at offset %d)", value[i], i)
		case unicode.IsControl(r):
			return nameError(field, "must not contain control characters (%s at offset %d)", quoteRune(r), i)
		case unicode.Is(unicode.Bidi_Control, r):
			return nameError(field, "must not contain bidirectional formatting characters (%s at offset %d)", quoteRune(r), i)
		}
		i += size
	}
	return nil
}

func nameError(field, format string, args ...any) error {
	e := invalidField(field, format, args...)
	e.details["reason"] = "forbidden_character"
	return e
}

// quoteRune shows a rune as an escape a terminal prints harmlessly.
func quoteRune(r rune) string {
	return strconv.QuoteRuneToASCII(r)
}

// CheckName is checkName for the parts of a node that take names
// outside the REST API: node and robot names and tags given as flags or
// in a robot's hello.
func CheckName(field, value string) error { return checkName(field, value) }

// CheckNames is CheckName over a list; each entry is named field[i].
func CheckNames(field string, values []string) error { return checkNames(field, values) }

// checkNames is checkName over a list; each entry is named field[i].
func checkNames(field string, values []string) error {
	for i, v := range values {
		if err := checkName(fmt.Sprintf("%s[%d]", field, i), v); err != nil {
			return err
		}
	}
	return nil
}

// checkUTF8 refuses a JSON document holding bytes that are not UTF-8.
// encoding/json would silently turn them into U+FFFD, so a name with
// them would be stored altered; instead the error names the JSON path
// of the value holding the first bad byte.
func checkUTF8(data []byte, prefix string) error {
	if utf8.Valid(data) {
		return nil
	}
	bad := firstInvalidUTF8(data)
	if bad < 0 {
		return nil
	}
	field := prefix + jsonPathAt(data, bad)
	if field == prefix {
		field = cmp.Or(strings.TrimSuffix(prefix, "."), "body")
	}
	return nameError(field, "is not valid UTF-8 (byte 0x%02x at offset %d of the body)", data[bad], bad)
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return -1
}

// jsonPathAt returns the path ("nodes[1].id") of the JSON value or key
// that holds byte offset off, or "" when it cannot tell.
func jsonPathAt(data []byte, off int) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []pathStep
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if dec.InputOffset() > int64(off) {
			return renderPath(stack, tok)
		}
		stack = advancePath(stack, tok)
	}
}

// pathStep is one level of an open JSON container while walking tokens.
type pathStep struct {
	object   bool
	key      string // the current key, in an object
	index    int    // the current index, in an array
	wantsKey bool   // the next string in this object is a key
}

func advancePath(stack []pathStep, tok json.Token) []pathStep {
	if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
		stack = stack[:len(stack)-1]
		return valueDone(stack)
	}
	if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantsKey {
		stack[n-1].key, stack[n-1].wantsKey = tok.(string), false
		return stack
	}
	if d, ok := tok.(json.Delim); ok {
		return append(stack, pathStep{object: d == '{', wantsKey: d == '{', index: 0})
	}
	return valueDone(stack)
}

// valueDone moves the innermost container past a finished value.
func valueDone(stack []pathStep) []pathStep {
	if n := len(stack); n > 0 {
		if stack[n-1].object {
			stack[n-1].wantsKey = true
		} else {
			stack[n-1].index++
		}
	}
	return stack
}

// renderPath names the value at the top of stack; tok is the token that
// holds the offset sought (a key names its own entry).
func renderPath(stack []pathStep, tok json.Token) string {
	var b bytes.Buffer
	for i, s := range stack {
		switch {
		case s.object && s.wantsKey && i == len(stack)-1:
			if key, ok := tok.(string); ok {
				writeKey(&b, key)
			}
		case s.object:
			writeKey(&b, s.key)
		default:
			fmt.Fprintf(&b, "[%d]", s.index)
		}
	}
	return b.String()
}

func writeKey(b *bytes.Buffer, key string) {
	if b.Len() > 0 {
		b.WriteByte('.')
	}
	b.WriteString(key)
}
