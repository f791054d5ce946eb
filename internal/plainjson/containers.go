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
	s := containerScan{Decoder: Decoder{Buf: buf}}
	for _, p := range raw {
		path := strings.Split(p, ".")
		s.raw = append(s.raw, path)
		s.maxDepth = max(s.maxDepth, len(path))
	}
	s.levels = make([]level, 0, s.maxDepth)
	return s.run()
}

// ContainersOver reports whether buf holds more than limit containers
// (Containers), and how many it holds then. Every container starts with
// a byte of its own, so a buf of at most limit bytes is not scanned: a
// robot's calls and most request bodies are far smaller than any limit.
func ContainersOver(buf []byte, limit int, raw ...string) (n int, over bool) {
	if len(buf) <= limit {
		return 0, false
	}
	n = Containers(buf, raw...)
	return n, n > limit
}

type containerScan struct {
	Decoder
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
	for s.Pos < len(s.Buf) {
		switch c := s.Buf[s.Pos]; c {
		case '{', '[':
			n++
			if s.depth < s.maxDepth {
				s.levels = append(s.levels, level{object: c == '{', expectKey: c == '{'})
			}
			s.depth++
			s.Pos++
		case '}', ']':
			if s.depth > 0 {
				s.depth--
				if s.depth < len(s.levels) {
					s.levels = s.levels[:s.depth]
				}
			}
			s.Pos++
		case ',':
			if top := s.top(); top != nil && top.object {
				top.expectKey = true
			}
			s.Pos++
		case '"':
			s.string()
		default:
			s.Pos++
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

// string moves past the string at Pos, and past its value too when the
// string is a key on a raw path.
func (s *containerScan) string() {
	start := s.Pos
	s.Pos++
	s.skipStringBody()
	end := min(s.Pos, len(s.Buf))
	top := s.top()
	if top == nil || !top.object || !top.expectKey || end-start < 2 {
		return
	}
	top.expectKey = false
	top.key = s.Buf[start+1 : end-1]
	if s.Next(':') && s.onRawPath() {
		s.skip()
	}
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
