package plainjson

import (
	"encoding/json"
	"time"
	"unicode/utf8"
)

// The Append functions write what encoding/json writes for values the
// caller has checked need no escaping, without reflection: the hand-written
// encoders of submit entries (consensus), submit answers (api) and crash
// journal notes (node/robot). Which strings need no escaping differs
// between them: what encoding/json.Marshal writes escapes HTML
// characters (Plain checks for those), a submit entry, written as
// consensus's encodeJSON writes it, does not, so consensus keeps its own
// check.

// Plain reports whether encoding/json.Marshal writes s between quotes as
// it is: printable ASCII, without quotes, backslashes or the characters
// it escapes for HTML.
func Plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// PlainRaw reports whether encoding/json.Marshal writes raw, a
// json.RawMessage, as it is: one valid JSON value other than null, of
// printable ASCII, without white space outside its strings or the
// characters Marshal escapes for HTML.
func PlainRaw(raw []byte) bool { return string(raw) != "null" && compactASCII(raw, true) }

// CompactASCII reports whether raw is valid JSON of ASCII with no white
// space outside its strings: what an encoder that does not escape HTML
// (a json.Encoder after SetEscapeHTML(false)) writes of it unchanged.
func CompactASCII(raw []byte) bool { return compactASCII(raw, false) }

func compactASCII(raw []byte, html bool) bool {
	inString := false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c < 0x20 || c >= utf8.RuneSelf || (html && (c == '<' || c == '>' || c == '&')):
			return false
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && c == ' ':
			return false
		}
	}
	return json.Valid(raw)
}

// AppendString writes s between quotes; s must need no escaping.
func AppendString(buf []byte, s string) []byte {
	return append(append(append(buf, '"'), s...), '"')
}

// AppendNonEmpty writes key (`,"name":`) and s unless s is empty, as a
// field with omitempty is written.
func AppendNonEmpty(buf []byte, key, s string) []byte {
	if s == "" {
		return buf
	}
	return AppendString(append(buf, key...), s)
}

// AppendTime writes t as time.Time's MarshalJSON does; ok is false, and
// buf unchanged, when t has no RFC 3339 form (a year past 9999).
func AppendTime(buf []byte, t time.Time) ([]byte, bool) {
	out, err := t.AppendText(append(buf, '"'))
	if err != nil {
		return buf, false
	}
	return append(out, '"'), true
}

// AppendNonZeroTime writes key and t unless t is zero, as a field with
// omitzero is written.
func AppendNonZeroTime(buf []byte, key string, t time.Time) ([]byte, bool) {
	if t.IsZero() {
		return buf, true
	}
	out, ok := AppendTime(append(buf, key...), t)
	if !ok {
		return buf, false
	}
	return out, true
}
