package plainjson

import (
	"bytes"
	"strings"
)

// Containers counts the JSON objects and arrays in buf, at any depth,
// except those inside the values at the paths raw names. A path is keys
// and "*" joined by dots: "params" is the top-level object's params,
// "items.*.result" the result of each element of its items (keys compare
// as encoding/json matches them to fields, ignoring case).
//
// Decoding into Go values costs far more memory per container than the
// two bytes of "{}" or "[]": a megabyte of empty completions made a node
// allocate about 300 MB before any check on their number could run. A
// caller that bounds the count before decoding bounds that cost; raw
// names the fields decoded as json.RawMessage, which cost one copy
// however much they hold. Paths, not bare keys: a key named like a raw
// field inside a map[string]any is decoded in full.
//
// Containers reads any bytes in one pass and never fails: on invalid
// JSON the count is only a bound that the decoder's refusal makes moot.
func Containers(buf []byte, raw ...string) int {
	s := containerScan{buf: buf}
	for _, p := range raw {
		path := strings.Split(p, ".")
		s.raw = append(s.raw, path)
		s.maxDepth = max(s.maxDepth, len(path))
	}
	s.levels = make([]level, 0, s.maxDepth)
	return s.run()
}

type containerScan struct {
	buf      []byte
	raw      [][]string
	maxDepth int
	// depth is how many containers the scan is in; levels keeps the first
	// maxDepth of them, as deeper ones cannot be on a raw path.
	depth  int
	levels []level
}

// level is a container the scan is in.
type level struct {
	object    bool
	expectKey bool   // an object's next string is a key
	key       []byte // an object's latest key
}

func (s *containerScan) run() int {
	n := 0
	for i := 0; i < len(s.buf); {
		switch c := s.buf[i]; c {
		case '{', '[':
			n++
			if s.depth < s.maxDepth {
				s.levels = append(s.levels, level{object: c == '{', expectKey: c == '{'})
			}
			s.depth++
			i++
		case '}', ']':
			if s.depth > 0 {
				s.depth--
				if s.depth < len(s.levels) {
					s.levels = s.levels[:s.depth]
				}
			}
			i++
		case ',':
			if top := s.top(); top != nil && top.object {
				top.expectKey = true
			}
			i++
		case '"':
			i = s.afterString(i)
		default:
			i++
		}
	}
	return n
}

// top is the innermost container if the scan keeps it.
func (s *containerScan) top() *level {
	if s.depth == 0 || s.depth > len(s.levels) {
		return nil
	}
	return &s.levels[s.depth-1]
}

// afterString returns where the scan goes on after the string at i: past
// the value too, when the string is a key on a raw path.
func (s *containerScan) afterString(i int) int {
	end := stringEnd(s.buf, i)
	top := s.top()
	if top == nil || !top.object || !top.expectKey || end-i < 2 {
		return end
	}
	top.expectKey = false
	top.key = s.buf[i+1 : end-1]
	colon := skipSpace(s.buf, end)
	if colon < len(s.buf) && s.buf[colon] == ':' && s.onRawPath() {
		return valueEnd(s.buf, colon+1)
	}
	return end
}

// onRawPath reports whether the key just read ends a raw path.
func (s *containerScan) onRawPath() bool {
	for _, path := range s.raw {
		if len(path) == s.depth && s.matches(path) {
			return true
		}
	}
	return false
}

func (s *containerScan) matches(path []string) bool {
	for i, want := range path {
		l := s.levels[i]
		if want == "*" {
			if l.object {
				return false
			}
		} else if !l.object || !bytes.EqualFold(l.key, []byte(want)) {
			return false
		}
	}
	return true
}

// stringEnd returns the index just past the string that starts at
// buf[start] (a quote), or len(buf) if it does not end.
func stringEnd(buf []byte, start int) int {
	for i := start + 1; i < len(buf); i++ {
		switch buf[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(buf)
}

func skipSpace(buf []byte, i int) int {
	for i < len(buf) && isSpace(buf[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// valueEnd returns the index just past the value that starts at or after
// buf[start]: a string, an object or array with all it holds, or a
// literal or number up to the next delimiter.
func valueEnd(buf []byte, start int) int {
	i := skipSpace(buf, start)
	depth := 0
	for i < len(buf) {
		switch c := buf[i]; {
		case c == '"':
			i = stringEnd(buf, i)
		case c == '{' || c == '[':
			depth++
			i++
		case c == '}' || c == ']':
			if depth == 0 {
				return i
			}
			depth--
			i++
		case depth == 0 && (c == ',' || isSpace(c)):
			return i
		default:
			i++
		}
		if depth == 0 && i > start && (buf[i-1] == '"' || buf[i-1] == '}' || buf[i-1] == ']') {
			return i
		}
	}
	return i
}
