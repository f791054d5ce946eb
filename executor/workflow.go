package executor

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Workflow is a workflow definition as stored and submitted.
type Workflow struct {
	Name        string         `json:"name"`
	Description string         `json:"description,omitempty"`
	Variables   map[string]any `json:"variables,omitempty"`
	// SecretVariables names variables whose values are secrets: they are
	// replaced by *** wherever the run lets them out, like the values
	// of secret("NAME").
	SecretVariables []string     `json:"secret_variables,omitempty"`
	Nodes           []Node       `json:"nodes"`
	Connections     []Connection `json:"connections"`
	// Limits changes the run timeout and step limit; see Limits.
	Limits *Limits `json:"limits,omitempty"`
	// Meta holds data for editors, such as node positions; the engine
	// ignores it.
	Meta map[string]any `json:"meta,omitempty"`
}

// Node is one step of a workflow.
type Node struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	// Name is a display name for editors and progress output.
	Name   string         `json:"name,omitempty"`
	Config map[string]any `json:"config,omitempty"`
	// Timeout limits one attempt of the node, as a Go duration ("30s").
	Timeout string `json:"timeout,omitempty"`
	Retry   *Retry `json:"retry,omitempty"`
	// Meta holds data for editors; the engine ignores it.
	Meta map[string]any `json:"meta,omitempty"`
}

// Retry says how often a failing node is attempted again. The wait before
// retry n is Backoff * 2^(n-1), capped at MaxBackoff (default 5m).
type Retry struct {
	// Max is the number of retries after the first attempt.
	Max        int    `json:"max"`
	Backoff    string `json:"backoff,omitempty"`
	MaxBackoff string `json:"max_backoff,omitempty"`
}

// Connection links the port of one node to the next node. An empty port is
// the node's normal exit.
type Connection struct {
	From string `json:"from"`
	To   string `json:"to"`
	Port string `json:"port,omitempty"`
}

// Parse decodes a workflow strictly: unknown fields, wrong JSON types and
// trailing data are errors that give the line and column of the problem.
// Parse does not validate the graph; see Validate and ParseAndValidate.
func Parse(data []byte) (*Workflow, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var w Workflow
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("parse workflow: %w", describeJSONError(data, dec.InputOffset(), err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := position(data, dec.InputOffset())
		return nil, fmt.Errorf("parse workflow: line %d, column %d: unexpected data after the workflow object", line, col)
	}
	return &w, nil
}

// ParseAndValidate parses a workflow and validates it. A validation failure
// is a *ValidationError.
func ParseAndValidate(data []byte) (*Workflow, error) {
	w, err := Parse(data)
	if err != nil {
		return nil, err
	}
	if err := Validate(w); err != nil {
		return nil, err
	}
	return w, nil
}

// describeJSONError rewrites encoding/json errors so that they say where in
// the document the problem is, which a person editing a workflow needs.
func describeJSONError(data []byte, offset int64, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New("empty document")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("unexpected end of document")
	case errors.As(err, &syntax):
		// Offset counts the bytes read, the bad one included.
		line, col := position(data, syntax.Offset-1)
		return fmt.Errorf("line %d, column %d: %s", line, col, syntax.Error())
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset-1)
		field := typ.Field
		if field == "" {
			field = "workflow"
		}
		return fmt.Errorf("line %d, column %d: field %s: cannot use a JSON %s as %s%s", line, col, field, typ.Value, typ.Type, fieldHint(field))
	default:
		if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			// The decoder has read past the field; point at its name.
			if i := bytes.LastIndex(data[:offset], []byte(name)); i >= 0 {
				offset = int64(i)
			}
		}
		line, col := position(data, offset)
		return fmt.Errorf("line %d, column %d: %w", line, col, err)
	}
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	offset = max(0, min(offset, int64(len(data))))
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - bytes.LastIndexByte(before, '\n')
	return line, col
}
