package consensus

import (
	"encoding/json"
	"sync"

	"github.com/casare/casare/internal/plainjson"
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

// DecodeJSON decodes data into v as json.Unmarshal does, reading the
// form nodes and robots write without reflection where v is a command
// with a fast decoder: the gateway reads robots' calls with it.
func DecodeJSON(data []byte, v any) error { return decodePayload(data, v) }

// decodePayload decodes a command's payload into cmd.
func decodePayload(payload []byte, cmd any) error {
	if f, ok := cmd.(fastDecoder); ok && f.decodeFast(payload) {
		return nil
	}
	return json.Unmarshal(payload, cmd)
}

func (c *SubmitGroupsCmd) decodeFast(payload []byte) bool {
	return decodeWhole(payload, c, (*specDecoder).readGroups)
}

// decodeWhole is every fast decoder's frame: read reads c from the
// whole payload, or c is left zero for json.Unmarshal, which merges into
// what it finds.
func decodeWhole[T any](payload []byte, c *T, read func(*specDecoder, *T) bool) bool {
	d := specDecoder{Decoder: plainjson.Decoder{Buf: payload}}
	if !read(&d, c) || d.Space() != len(payload) {
		*c = *new(T)
		return false
	}
	return true
}

// specDecoder reads JSON from buf at pos. Each method returns false when
// the input is not of the plain form it handles.
type specDecoder struct {
	plainjson.Decoder
	// lastWorkflow is the workflow id of the spec read last.
	lastWorkflow string
}

// readGroups reads {"groups":[[spec,...],...]}, {"groups":...,"brief":true}
// and {"groups":...,"brief":true,"more":true}.
func (d *specDecoder) readGroups(c *SubmitGroupsCmd) bool {
	if !d.Next('{') {
		return false
	}
	key, ok := d.StringBytes()
	if !ok || string(key) != "groups" || !d.Next(':') {
		return false
	}
	c.Groups = [][]JobSpec{}
	scratch := specScratch.Get().(*[]JobSpec)
	defer specScratch.Put(scratch)
	ok = d.Array(func() bool {
		specs := (*scratch)[:0]
		ok := d.Array(func() bool {
			specs = append(specs, JobSpec{})
			return d.readSpec(&specs[len(specs)-1])
		})
		c.Groups = append(c.Groups, append(make([]JobSpec, 0, len(specs)), specs...))
		clear(specs) // the pool keeps no job's strings
		*scratch = specs
		return ok
	})
	if ok && d.Next(',') {
		if !d.trueFlag("brief") {
			return false
		}
		c.Brief = true
		if d.Next(',') {
			if !d.trueFlag("more") {
				return false
			}
			c.More = true
		}
	}
	return ok && d.Next('}')
}

// trueFlag reads `"name":true`.
func (d *specDecoder) trueFlag(name string) bool {
	key, ok := d.StringBytes()
	return ok && string(key) == name && d.Next(':') && d.Literal("true")
}

// specScratch holds the slices groups are read into before each is
// copied out at its size: appending to the group itself made and dropped
// about twice its size of specs (296 bytes each), a fifth of the leader's
// allocations under batched submits (bench/queue -cpuprofile, allocs).
var specScratch = sync.Pool{New: func() any { return new([]JobSpec) }}

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

// specFieldOf returns the field key names. A switch, not a map: the map
// lookup, once a key of every spec, hashed each key, about a sixth of
// the decode of a submit entry (BenchmarkApplySubmitGroups, cpu profile).
func specFieldOf(key []byte) (specField, bool) {
	switch string(key) {
	case "id":
		return fieldID, true
	case "workflow_id":
		return fieldWorkflowID, true
	case "workflow_version":
		return fieldWorkflowVersion, true
	case "params":
		return fieldParams, true
	case "priority":
		return fieldPriority, true
	case "execution_mode":
		return fieldExecutionMode, true
	case "robot_tags":
		return fieldRobotTags, true
	case "pinned_robot":
		return fieldPinnedRobot, true
	case "max_attempts":
		return fieldMaxAttempts, true
	case "backoff":
		return fieldBackoff, true
	case "rerun_of":
		return fieldRerunOf, true
	case "unique_key":
		return fieldUniqueKey, true
	case "not_before":
		return fieldNotBefore, true
	case "deadline":
		return fieldDeadline, true
	case "schedule_id":
		return fieldScheduleID, true
	case "fire_time":
		return fieldFireTime, true
	}
	return 0, false
}

// readSpec reads one JobSpec object.
func (d *specDecoder) readSpec(spec *JobSpec) bool {
	if !d.Next('{') {
		return false
	}
	if d.Next('}') {
		return true
	}
	var seen uint
	for {
		key, ok := d.StringBytes()
		if !ok || !d.Next(':') {
			return false
		}
		field, known := specFieldOf(key)
		if !known || seen&(1<<field) != 0 {
			return false
		}
		seen |= 1 << field
		if !d.readSpecField(spec, field) {
			return false
		}
		if d.Next('}') {
			return true
		}
		if !d.Next(',') {
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
		raw, ok := d.StringBytes()
		if string(raw) != d.lastWorkflow {
			d.lastWorkflow = string(raw)
		}
		spec.WorkflowID = d.lastWorkflow
		return ok
	case fieldExecutionMode:
		raw, ok := d.StringBytes()
		spec.ExecutionMode = ModeString(raw)
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
		return d.Array(func() bool {
			s, ok := d.String()
			spec.RobotTags = append(spec.RobotTags, s)
			return ok
		})
	case fieldParams:
		raw, ok := d.Raw()
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
// ModeString is raw as a string, without a copy for the execution modes
// there are: decoders of many jobs keep one string per mode.
func ModeString(raw []byte) string {
	for _, m := range []string{ModeLAN, ModeInternet, ModeAny} {
		if string(raw) == m {
			return m
		}
	}
	return string(raw)
}

func (d *specDecoder) readStringTo(dst *string) bool {
	s, ok := d.String()
	*dst = s
	return ok
}

func (d *specDecoder) readInt(dst *int) bool {
	v, ok := d.Int()
	*dst = v
	return ok
}

// readUnmarshaler hands the next value to the field's own UnmarshalJSON,
// as json.Unmarshal does; a null is left to json.Unmarshal.
func (d *specDecoder) readUnmarshaler(dst json.Unmarshaler) bool {
	raw, ok := d.Raw()
	return ok && dst.UnmarshalJSON(raw) == nil
}
