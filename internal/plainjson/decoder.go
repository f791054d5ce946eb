// Package plainjson reads JSON in the plain form that encoding/json
// writes and clients usually send: strings without escapes, integers
// without fraction or exponent, each value where the caller expects it.
// Its Decoder is the scanner under the hand-written decoders of hot
// payloads (submit and robot-report entries in consensus, job requests
// in api), which read that form without reflection and hand anything
// else to encoding/json. Every method returns false, without a promise
// about Pos, when the input is not of the plain form it reads.
// Containers, which reads any bytes, bounds what decoding a body would
// cost before it is decoded.
package plainjson

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Decoder reads Buf from Pos.
type Decoder struct {
	Buf []byte
	Pos int
}

// Space moves past JSON white space and returns the position.
func (d *Decoder) Space() int {
	for d.Pos < len(d.Buf) {
		switch d.Buf[d.Pos] {
		case ' ', '\t', '\n', '\r':
			d.Pos++
		default:
			return d.Pos
		}
	}
	return d.Pos
}

// Next reports whether the next token starts with b, and moves past it.
func (d *Decoder) Next(b byte) bool {
	if d.Space() < len(d.Buf) && d.Buf[d.Pos] == b {
		d.Pos++
		return true
	}
	return false
}

// Literal reports whether the next token is lit, and moves past it.
func (d *Decoder) Literal(lit string) bool {
	if !bytes.HasPrefix(d.Buf[d.Space():], []byte(lit)) {
		return false
	}
	d.Pos += len(lit)
	return true
}

// Array reads [elem, ...], calling elem for each element.
func (d *Decoder) Array(elem func() bool) bool {
	if !d.Next('[') {
		return false
	}
	if d.Next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.Next(']') {
			return true
		}
		if !d.Next(',') {
			return false
		}
	}
}

// Object reads {"key":value,...} with keys among fields, each at most
// once, handing each key's index to field to read its value. A key
// outside fields is refused: encoding/json would match it to a field
// without regard to case, or ignore it.
func (d *Decoder) Object(fields []string, field func(i int) bool) bool {
	if !d.Next('{') {
		return false
	}
	if d.Next('}') {
		return true
	}
	var seen uint64
	for {
		key, ok := d.Key()
		if !ok {
			return false
		}
		i := slices.Index(fields, string(key))
		if i < 0 || i >= 64 || seen&(1<<i) != 0 || !field(i) {
			return false
		}
		seen |= 1 << i
		if d.Next('}') {
			return true
		}
		if !d.Next(',') {
			return false
		}
	}
}

// Key reads `"name":` and returns the name's bytes, in Buf.
func (d *Decoder) Key() ([]byte, bool) {
	k, ok := d.StringBytes()
	return k, ok && d.Next(':')
}

// String reads a string without escapes or control characters, in
// valid UTF-8: one that json.Unmarshal takes byte for byte.
func (d *Decoder) String() (string, bool) {
	raw, ok := d.StringBytes()
	return string(raw), ok
}

// StringBytes is String without the copy: the bytes are Buf's.
func (d *Decoder) StringBytes() ([]byte, bool) {
	if !d.Next('"') {
		return nil, false
	}
	start, ascii := d.Pos, true
	for ; d.Pos < len(d.Buf); d.Pos++ {
		switch c := d.Buf[d.Pos]; {
		case c == '"':
			raw := d.Buf[start:d.Pos]
			d.Pos++
			if !ascii && !utf8.Valid(raw) {
				return nil, false
			}
			return raw, true
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// Bool reads true or false.
func (d *Decoder) Bool() (v, ok bool) {
	switch {
	case d.Literal("true"):
		return true, true
	case d.Literal("false"):
		return false, true
	}
	return false, false
}

// Int reads an integer in JSON's plain form (no fraction, exponent or
// leading zero) that fits an int.
func (d *Decoder) Int() (int, bool) {
	start := d.Space()
	if d.Pos < len(d.Buf) && d.Buf[d.Pos] == '-' {
		d.Pos++
	}
	if !d.digits() {
		return 0, false
	}
	v, err := strconv.Atoi(string(d.Buf[start:d.Pos]))
	return v, err == nil
}

// Uint reads a non-negative integer in JSON's plain form that fits a
// uint64.
func (d *Decoder) Uint() (uint64, bool) {
	start := d.Space()
	if !d.digits() {
		return 0, false
	}
	v, err := strconv.ParseUint(string(d.Buf[start:d.Pos]), 10, 64)
	return v, err == nil
}

// digits moves past an integer's digits and reports whether they are in
// plain form: at least one, no leading zero, no fraction or exponent
// after them.
func (d *Decoder) digits() bool {
	first := d.Pos
	for d.Pos < len(d.Buf) && d.Buf[d.Pos] >= '0' && d.Buf[d.Pos] <= '9' {
		d.Pos++
	}
	n := d.Pos - first
	if n == 0 || (n > 1 && d.Buf[first] == '0') {
		return false
	}
	if d.Pos < len(d.Buf) {
		switch d.Buf[d.Pos] {
		case '.', 'e', 'E':
			return false
		}
	}
	return true
}

// Raw returns the next JSON value's bytes, in Buf, checked to be one
// valid JSON value. A null is refused: json.Unmarshal treats it apart.
func (d *Decoder) Raw() ([]byte, bool) {
	start := d.Space()
	if start == len(d.Buf) {
		return nil, false
	}
	d.skip()
	return d.valid(start)
}

// Skip returns the next value's bytes, in Buf, without checking them:
// for a caller that hands them to a decoder that checks what it reads
// (json.Unmarshal, or a fast decoder that reads the whole of them).
func (d *Decoder) Skip() ([]byte, bool) {
	start := d.Space()
	if start == len(d.Buf) {
		return nil, false
	}
	d.skip()
	if d.Pos == start || d.Pos > len(d.Buf) {
		return nil, false // no value here, or a string cut short
	}
	return d.Buf[start:d.Pos], true
}

// skip moves past the next value without checking it: a string, an
// object or array with all it holds, or a number or literal up to the
// next delimiter. Pos may end past Buf after a final backslash.
func (d *Decoder) skip() {
	if d.Space() >= len(d.Buf) {
		return
	}
	switch d.Buf[d.Pos] {
	case '"':
		d.Pos++
		d.skipStringBody()
	case '{', '[':
		depth := 0
		for d.Pos < len(d.Buf) {
			c := d.Buf[d.Pos]
			d.Pos++
			switch c {
			case '"':
				d.skipStringBody()
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			if depth == 0 {
				break
			}
		}
	default: // a number or a literal
		for d.Pos < len(d.Buf) {
			switch d.Buf[d.Pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return
			}
			d.Pos++
		}
	}
}

// skipStringBody moves past a string whose opening quote is read.
func (d *Decoder) skipStringBody() {
	for d.Pos < len(d.Buf) {
		c := d.Buf[d.Pos]
		d.Pos++
		switch c {
		case '\\':
			d.Pos++
		case '"':
			return
		}
	}
}

// valid returns Buf[start:Pos] when it is one valid JSON value other
// than null.
func (d *Decoder) valid(start int) ([]byte, bool) {
	if d.Pos > len(d.Buf) {
		return nil, false
	}
	raw := d.Buf[start:d.Pos]
	if len(raw) == 0 || string(raw) == "null" || !json.Valid(raw) {
		return nil, false
	}
	return raw, true
}
