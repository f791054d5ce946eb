package consensus

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync"
	"unicode/utf8"
)

// Every replica decodes every submit entry, and the leader decodes a
// forwarded one once more to check it: under batched submits the
// reflection-driven json.Unmarshal of the specs was 18% of the nodes' CPU
// (bench/queue -cpuprofile). decodeFast reads the entries that nodes
// write (encodeJSON of a SubmitGroupsCmd: known keys in lower case,
// plain strings and integers) without reflection. Anything else it
// leaves to json.Unmarshal, so that every entry, old or odd, decodes
// exactly as before: a null, an escape in a string, a number that is not
// a plain integer, a key it does not know or sees twice, a sealed_params
// or debug object. FuzzSubmitGroupsFastDecode holds it to json.Unmarshal.

// fastDecoder is a command that can decode its common encoding itself.
// decodeFast reports false, leaving the command zero, for anything it
// does not handle.
type fastDecoder interface {
	decodeFast(payload []byte) bool
}

// decodePayload decodes a command's payload into cmd.
func decodePayload(payload []byte, cmd any) error {
	if f, ok := cmd.(fastDecoder); ok && f.decodeFast(payload) {
		return nil
	}
	return json.Unmarshal(payload, cmd)
}

func (c *SubmitGroupsCmd) decodeFast(payload []byte) bool {
	d := specDecoder{buf: payload}
	if !d.readGroups(c) || d.skipSpace() != len(payload) {
		*c = SubmitGroupsCmd{}
		return false
	}
	return true
}

// specDecoder reads JSON from buf at pos. Each method returns false when
// the input is not of the plain form it handles.
type specDecoder struct {
	buf []byte
	pos int
	// lastWorkflow is the workflow id of the spec read last.
	lastWorkflow string
}

// skipSpace moves past JSON white space and returns the position.
func (d *specDecoder) skipSpace() int {
	for d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return d.pos
		}
	}
	return d.pos
}

// next reports whether the next token starts with b, and moves past it.
func (d *specDecoder) next(b byte) bool {
	if d.skipSpace() < len(d.buf) && d.buf[d.pos] == b {
		d.pos++
		return true
	}
	return false
}

// readGroups reads {"groups":[[spec,...],...]} and {"groups":...,"brief":true}.
func (d *specDecoder) readGroups(c *SubmitGroupsCmd) bool {
	if !d.next('{') {
		return false
	}
	key, ok := d.readStringBytes()
	if !ok || string(key) != "groups" || !d.next(':') {
		return false
	}
	c.Groups = [][]JobSpec{}
	scratch := specScratch.Get().(*[]JobSpec)
	defer specScratch.Put(scratch)
	ok = d.readArray(func() bool {
		specs := (*scratch)[:0]
		ok := d.readArray(func() bool {
			specs = append(specs, JobSpec{})
			return d.readSpec(&specs[len(specs)-1])
		})
		c.Groups = append(c.Groups, append(make([]JobSpec, 0, len(specs)), specs...))
		clear(specs) // the pool keeps no job's strings
		*scratch = specs
		return ok
	})
	if ok && d.next(',') {
		key, isKey := d.readStringBytes()
		if !isKey || string(key) != "brief" || !d.next(':') || !d.literal("true") {
			return false
		}
		c.Brief = true
	}
	return ok && d.next('}')
}

// literal reports whether the next token is lit, and moves past it.
func (d *specDecoder) literal(lit string) bool {
	if !bytes.HasPrefix(d.buf[d.skipSpace():], []byte(lit)) {
		return false
	}
	d.pos += len(lit)
	return true
}

// specScratch holds the slices groups are read into before each is
// copied out at its size: appending to the group itself made and dropped
// about twice its size of specs (296 bytes each), a fifth of the leader's
// allocations under batched submits (bench/queue -cpuprofile, allocs).
var specScratch = sync.Pool{New: func() any { return new([]JobSpec) }}

// readArray reads [elem, ...], calling elem for each element.
func (d *specDecoder) readArray(elem func() bool) bool {
	if !d.next('[') {
		return false
	}
	if d.next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.next(']') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

// specField is a JobSpec key readSpec handles.
type specField uint

const (
	fieldID specField = iota
	fieldWorkflowID
	fieldWorkflowVersion
	fieldParams
	fieldPriority
	fieldExecutionMode
	fieldRobotTags
	fieldPinnedRobot
	fieldMaxAttempts
	fieldBackoff
	fieldRerunOf
	fieldUniqueKey
	fieldNotBefore
	fieldDeadline
	fieldScheduleID
	fieldFireTime
)

var specFields = map[string]specField{
	"id": fieldID, "workflow_id": fieldWorkflowID, "workflow_version": fieldWorkflowVersion,
	"params": fieldParams, "priority": fieldPriority, "execution_mode": fieldExecutionMode,
	"robot_tags": fieldRobotTags, "pinned_robot": fieldPinnedRobot, "max_attempts": fieldMaxAttempts,
	"backoff": fieldBackoff, "rerun_of": fieldRerunOf, "unique_key": fieldUniqueKey,
	"not_before": fieldNotBefore, "deadline": fieldDeadline, "schedule_id": fieldScheduleID,
	"fire_time": fieldFireTime,
}

// readSpec reads one JobSpec object.
func (d *specDecoder) readSpec(spec *JobSpec) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	var seen uint
	for {
		key, ok := d.readStringBytes()
		if !ok || !d.next(':') {
			return false
		}
		field, known := specFields[string(key)]
		if !known || seen&(1<<field) != 0 {
			return false
		}
		seen |= 1 << field
		if !d.readSpecField(spec, field) {
			return false
		}
		if d.next('}') {
			return true
		}
		if !d.next(',') {
			return false
		}
	}
}

func (d *specDecoder) readSpecField(spec *JobSpec, field specField) bool {
	switch field {
	case fieldID:
		return d.readStringTo(&spec.ID)
	case fieldWorkflowID:
		// A merged entry's specs mostly name one workflow: they share
		// its id's bytes instead of each holding a copy.
		raw, ok := d.readStringBytes()
		if string(raw) != d.lastWorkflow {
			d.lastWorkflow = string(raw)
		}
		spec.WorkflowID = d.lastWorkflow
		return ok
	case fieldExecutionMode:
		raw, ok := d.readStringBytes()
		spec.ExecutionMode = executionMode(raw)
		return ok
	case fieldPinnedRobot:
		return d.readStringTo(&spec.PinnedRobot)
	case fieldRerunOf:
		return d.readStringTo(&spec.RerunOf)
	case fieldUniqueKey:
		return d.readStringTo(&spec.UniqueKey)
	case fieldScheduleID:
		return d.readStringTo(&spec.ScheduleID)
	case fieldWorkflowVersion:
		return d.readInt(&spec.WorkflowVersion)
	case fieldPriority:
		return d.readInt(&spec.Priority)
	case fieldMaxAttempts:
		return d.readInt(&spec.MaxAttempts)
	case fieldRobotTags:
		spec.RobotTags = []string{}
		return d.readArray(func() bool {
			s, ok := d.readString()
			spec.RobotTags = append(spec.RobotTags, s)
			return ok
		})
	case fieldParams:
		raw, ok := d.readRaw()
		spec.Params = json.RawMessage(append([]byte(nil), raw...))
		return ok
	case fieldBackoff:
		return d.readUnmarshaler(&spec.Backoff)
	case fieldNotBefore:
		return d.readUnmarshaler(&spec.NotBefore)
	case fieldDeadline:
		return d.readUnmarshaler(&spec.Deadline)
	case fieldFireTime:
		return d.readUnmarshaler(&spec.FireTime)
	}
	return false
}

// executionMode returns the mode named by raw, the known ones without
// allocating.
func executionMode(raw []byte) string {
	for _, m := range []string{ModeLAN, ModeInternet, ModeAny} {
		if string(raw) == m {
			return m
		}
	}
	return string(raw)
}

func (d *specDecoder) readStringTo(dst *string) bool {
	s, ok := d.readString()
	*dst = s
	return ok
}

// readString reads a string without escapes or control characters, in
// valid UTF-8: one that json.Unmarshal takes byte for byte.
func (d *specDecoder) readString() (string, bool) {
	raw, ok := d.readStringBytes()
	return string(raw), ok
}

// readStringBytes is readString without the copy: the bytes are buf's.
func (d *specDecoder) readStringBytes() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start, ascii := d.pos, true
	for ; d.pos < len(d.buf); d.pos++ {
		switch c := d.buf[d.pos]; {
		case c == '"':
			raw := d.buf[start:d.pos]
			d.pos++
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

// readInt reads an integer in JSON's plain form (no fraction, exponent
// or leading zero) that fits an int.
func (d *specDecoder) readInt(dst *int) bool {
	start := d.skipSpace()
	if d.pos < len(d.buf) && d.buf[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.buf) && d.buf[d.pos] >= '0' && d.buf[d.pos] <= '9' {
		d.pos++
	}
	n := d.pos - digits
	if n == 0 || (n > 1 && d.buf[digits] == '0') {
		return false
	}
	if d.pos < len(d.buf) {
		switch d.buf[d.pos] {
		case '.', 'e', 'E':
			return false
		}
	}
	v, err := strconv.Atoi(string(d.buf[start:d.pos]))
	*dst = v
	return err == nil
}

// readRaw returns the next JSON value's bytes, checked to be valid JSON.
func (d *specDecoder) readRaw() ([]byte, bool) {
	start := d.skipSpace()
	if start == len(d.buf) {
		return nil, false
	}
	switch d.buf[start] {
	case '"':
		d.pos++
		d.skipStringBody()
	case '{', '[':
		depth := 0
		for d.pos < len(d.buf) {
			c := d.buf[d.pos]
			d.pos++
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
		for d.pos < len(d.buf) {
			switch d.buf[d.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return d.valid(start)
			}
			d.pos++
		}
	}
	return d.valid(start)
}

// skipStringBody moves past a string whose opening quote is read.
func (d *specDecoder) skipStringBody() {
	for d.pos < len(d.buf) {
		c := d.buf[d.pos]
		d.pos++
		switch c {
		case '\\':
			d.pos++
		case '"':
			return
		}
	}
}

// valid returns buf[start:pos] when it is one valid JSON value. A null is left to json.Unmarshal.
func (d *specDecoder) valid(start int) ([]byte, bool) {
	if d.pos > len(d.buf) {
		return nil, false
	}
	raw := d.buf[start:d.pos]
	if len(raw) == 0 || string(raw) == "null" || !json.Valid(raw) {
		return nil, false
	}
	return raw, true
}

// readUnmarshaler hands the next value to the field's own UnmarshalJSON,
// as json.Unmarshal does; a null is left to json.Unmarshal.
func (d *specDecoder) readUnmarshaler(dst json.Unmarshaler) bool {
	raw, ok := d.readRaw()
	return ok && dst.UnmarshalJSON(raw) == nil
}
