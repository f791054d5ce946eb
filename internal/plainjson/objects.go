package plainjson

import "bytes"

// Objects counts the JSON objects in buf, at any depth, except those
// inside the value of a key named in raw (compared as encoding/json
// matches keys to fields, ignoring case). Decoding into Go structs costs
// far more memory per object than the two bytes of "{}": a megabyte of
// empty completions made a node allocate about 300 MB before any check
// on their number could run. A caller that bounds the count before
// decoding bounds that cost; raw names the fields decoded as
// json.RawMessage, which cost one copy however many objects they hold.
//
// Objects reads any bytes in one pass and never fails: on invalid JSON
// the count is only a bound that the decoder's own refusal makes moot.
func Objects(buf []byte, raw ...string) int {
	n := 0
	for i := 0; i < len(buf); {
		switch buf[i] {
		case '{':
			n++
			i++
		case '"':
			end := stringEnd(buf, i)
			colon := skipSpace(buf, end)
			if colon < len(buf) && buf[colon] == ':' && end-i >= 2 && isRaw(buf[i+1:end-1], raw) {
				i = valueEnd(buf, colon+1)
				continue
			}
			i = end
		default:
			i++
		}
	}
	return n
}

func isRaw(key []byte, raw []string) bool {
	for _, r := range raw {
		if bytes.EqualFold(key, []byte(r)) {
			return true
		}
	}
	return false
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
