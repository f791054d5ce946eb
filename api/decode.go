package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/internal/plainjson"
)

// minBodyContainers and bytesPerContainer bound the JSON objects and
// arrays of a request body besides its params, which are kept as
// encoded: at most the larger of minBodyContainers and the body's byte
// limit / bytesPerContainer (262,144 for an 8 MiB upload). Decoding
// costs up to about a kilobyte of Go values per container, for the two
// bytes of "{}": an upload of 8 MiB of empty workflow nodes made the
// node allocate 2.6 GB before the first node's missing id was found, a
// megabyte of them 320 MB. A workflow node as the designer saves it is
// some 120 bytes in 4 containers, so a real body stays under the bound
// and no real workflow (tens of thousands of nodes) reaches it.
const (
	minBodyContainers = 1 << 16
	bytesPerContainer = 32
)

// rawBodyPaths are where request bodies keep values encoded
// (plainjson.Containers).
var rawBodyPaths = []string{"params", "jobs.*.params"}

// readJSONBody is readBody for a body that is decoded as JSON: it also
// refuses one whose decoding would cost far more than its bytes.
func readJSONBody(c *gin.Context, limit int64) ([]byte, error) {
	data, err := readBody(c, limit)
	if err != nil {
		return nil, err
	}
	return data, checkContainers(data, "request body", limit)
}

// checkContainers refuses a JSON document, named what, of a body limited
// to limit bytes, that holds too many objects and arrays.
func checkContainers(data []byte, what string, limit int64) error {
	most := max(minBodyContainers, int(limit/bytesPerContainer))
	if n, over := plainjson.ContainersOver(data, most, rawBodyPaths...); over {
		return invalid("%s holds %d JSON objects and arrays besides params; at most %d are taken in one request of up to %d bytes", what, n, most, limit)
	}
	return nil
}

// readBody reads the whole request body, refusing more than limit bytes.
func readBody(c *gin.Context, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	if n := c.Request.ContentLength; n > 0 && n <= presizeBytes {
		// A body of a known, small length (a batch of 100 jobs is some
		// 20 KB) is read into one buffer with room for it and for the
		// read that finds its end. io.ReadAll reads into chunks that
		// grow from 512 bytes and then copies them into one slice:
		// BenchmarkReadBody, 100 jobs' bytes, went from 42 to 22 µs and
		// from 38 allocations (60 KB) to 25 (31 KB), and io.ReadAll was
		// 3.6% of a leader's CPU samples under batched submits. Larger
		// or unannounced bodies keep io.ReadAll, which ends with a slice
		// of their size; presizeBytes bounds what a client that only
		// declares a body makes the node hold before the bytes arrive.
		var buf bytes.Buffer
		buf.Grow(int(n) + bytes.MinRead)
		if _, err := buf.ReadFrom(body); err != nil {
			return nil, bodyError(err, limit)
		}
		return buf.Bytes(), nil
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err, limit)
	}
	return data, nil
}

// presizeBytes is the largest declared length readBody reads into a
// buffer of that size.
const presizeBytes = 64 << 10

func bodyError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return newError(CodeBodyTooLarge, "request body is larger than the limit of %d bytes", limit)
	}
	return invalid("read request body: %v", err)
}

// bindJSON reads and strictly decodes the JSON body into v. On failure it
// has already written the error response and returns false.
func (s *Server) bindJSON(c *gin.Context, v any) bool {
	return s.bindJSONLimit(c, v, s.cfg.MaxBodyBytes)
}

// bindJSONLimit is bindJSON for bodies with a limit of their own.
func (s *Server) bindJSONLimit(c *gin.Context, v any, limit int64) bool {
	return s.decodeBody(c, v, readJSONBody, limit)
}

// bindPeerJSON is bindJSONLimit for the internal routes, whose callers
// are the cluster's own nodes (internal_auth.go): a robot-only node's
// report of all its robots' logs is not bounded by what a client body
// may hold (checkContainers), and the internal body limit is its own.
func (s *Server) bindPeerJSON(c *gin.Context, v any) bool {
	return s.decodeBody(c, v, readBody, s.internalBodyLimit())
}

func (s *Server) decodeBody(c *gin.Context, v any, read func(*gin.Context, int64) ([]byte, error), limit int64) bool {
	data, err := read(c, limit)
	if err == nil {
		err = decodeStrict(data, v)
	}
	if err != nil {
		s.abort(c, err)
		return false
	}
	return true
}

// bindOptionalJSON is bindJSON for endpoints whose body may be empty.
func (s *Server) bindOptionalJSON(c *gin.Context, v any) bool {
	data, err := readJSONBody(c, s.cfg.MaxBodyBytes)
	if err == nil && len(bytes.TrimSpace(data)) > 0 {
		err = decodeStrict(data, v)
	}
	if err != nil {
		s.abort(c, err)
		return false
	}
	return true
}

// decodeStrict decodes one JSON value into v, refusing unknown fields and
// trailing data, and turns encoding/json's errors into messages that name
// the field or the offset at fault.
func decodeStrict(data []byte, v any) error {
	if err := checkUTF8(data, ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeDecodeError(err, int64(len(data)))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		e := invalid("malformed JSON: unexpected data after the JSON value at offset %d", dec.InputOffset())
		e.details = map[string]any{"offset": dec.InputOffset()}
		return e
	}
	return nil
}

func describeDecodeError(err error, size int64) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return invalid("request body is empty; a JSON object is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		e := invalid("malformed JSON: unexpected end of input at offset %d", size)
		e.details = map[string]any{"offset": size}
		return e
	case errors.As(err, &syntax):
		e := invalid("malformed JSON at offset %d: %v", syntax.Offset, syntax)
		e.details = map[string]any{"offset": syntax.Offset}
		return e
	case errors.As(err, &typ):
		want := jsonTypeName(typ.Type)
		if typ.Field == "" {
			e := invalid("request body must be a JSON %s, not %s", want, typ.Value)
			e.details = map[string]any{"expected": want}
			return e
		}
		e := invalidField(typ.Field, "must be %s %s, not %s", article(want), want, typ.Value)
		e.details["expected"] = want
		return e
	}
	// encoding/json reports unknown fields only as text.
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field := strings.Trim(name, `"`)
		e := invalidField(field, "unknown field")
		e.message = fmt.Sprintf("unknown field %q", field)
		return e
	}
	return invalid("malformed JSON: %v", err)
}

// jsonTypeName names the JSON type a Go type is decoded from.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.String:
		return "string"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// isJSONObject reports whether raw holds a JSON object (and not null, an
// array or a scalar).
func isJSONObject(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) > 0 && trimmed[0] == '{'
}

// isAbsent reports whether an optional raw JSON field was left out or
// set to null.
func isAbsent(raw json.RawMessage) bool {
	trimmed := bytes.TrimSpace(raw)
	return len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null"))
}

// CanonicalJSON rewrites a JSON value so that equal values have equal
// bytes: compact, object keys sorted, numbers kept exactly as written.
func CanonicalJSON(raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonicalise JSON: %w", err)
	}
	// A form field is not checked by a JSON decoder before it gets here:
	// what follows the first value would be dropped without a word.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the JSON value at offset %d", dec.InputOffset())
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("canonicalise JSON: %w", err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
