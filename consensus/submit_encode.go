package consensus

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/casare/casare/internal/plainjson"
)

// encoding/json boxes every time.Time of a struct to ask IsZero for its
// omitzero tag: three allocations a spec, and its reflective walk
// besides, made the encoding of a merged submit 17% of a batched
// submit's allocations (BenchmarkPostJobsBatch in package api).
// appendFast writes the plain specs a submit carries, byte for byte
// what encodeJSON writes, and leaves anything else (sealed params, a
// debug session, a string outside printable ASCII, params to compact) to
// encodeJSON. FuzzSubmitGroupsAppendFast holds the two equal.

// appendFast appends c's JSON to buf, or reports false when c is not of
// the plain form it writes.
func (c *SubmitGroupsCmd) appendFast(buf []byte) ([]byte, bool) {
	if c.Groups == nil {
		return buf, false
	}
	buf = append(buf, `{"groups":[`...)
	for i, group := range c.Groups {
		if i > 0 {
			buf = append(buf, ',')
		}
		if group == nil {
			buf = append(buf, "null"...)
			continue
		}
		buf = append(buf, '[')
		for k := range group {
			if k > 0 {
				buf = append(buf, ',')
			}
			var ok bool
			if buf, ok = appendSpec(buf, &group[k]); !ok {
				return buf, false
			}
		}
		buf = append(buf, ']')
	}
	buf = append(buf, ']')
	if c.Brief {
		buf = append(buf, `,"brief":true`...)
	}
	if c.More {
		buf = append(buf, `,"more":true`...)
	}
	return append(buf, '}'), true
}

// appendSpec appends one spec in JobSpec's field order, or reports
// false.
func appendSpec(buf []byte, s *JobSpec) ([]byte, bool) {
	if s.SealedParams != nil || s.Debug != nil || !plainStrings(s.RobotTags) ||
		!plainStrings([]string{s.ID, s.WorkflowID, s.ExecutionMode, s.PinnedRobot, s.RerunOf, s.UniqueKey, s.ScheduleID}) {
		return buf, false
	}
	buf = plainjson.AppendString(append(buf, `{"id":`...), s.ID)
	buf = plainjson.AppendString(append(buf, `,"workflow_id":`...), s.WorkflowID)
	if s.WorkflowVersion != 0 {
		buf = strconv.AppendInt(append(buf, `,"workflow_version":`...), int64(s.WorkflowVersion), 10)
	}
	if len(s.Params) > 0 {
		if !plainjson.CompactASCII(s.Params) {
			return buf, false
		}
		buf = append(append(buf, `,"params":`...), s.Params...)
	}
	buf = strconv.AppendInt(append(buf, `,"priority":`...), int64(s.Priority), 10)
	buf = plainjson.AppendString(append(buf, `,"execution_mode":`...), s.ExecutionMode)
	if len(s.RobotTags) > 0 {
		buf = append(buf, `,"robot_tags":[`...)
		for i, t := range s.RobotTags {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = plainjson.AppendString(buf, t)
		}
		buf = append(buf, ']')
	}
	buf = plainjson.AppendNonEmpty(buf, `,"pinned_robot":`, s.PinnedRobot)
	if s.MaxAttempts != 0 {
		buf = strconv.AppendInt(append(buf, `,"max_attempts":`...), int64(s.MaxAttempts), 10)
	}
	if s.Backoff != 0 {
		d := time.Duration(s.Backoff).String()
		if !plainStrings([]string{d}) {
			return buf, false // "µs"
		}
		buf = plainjson.AppendString(append(buf, `,"backoff":`...), d)
	}
	buf = plainjson.AppendNonEmpty(buf, `,"rerun_of":`, s.RerunOf)
	buf = plainjson.AppendNonEmpty(buf, `,"unique_key":`, s.UniqueKey)
	buf, ok := plainjson.AppendNonZeroTime(buf, `,"not_before":`, s.NotBefore)
	buf, ok2 := plainjson.AppendNonZeroTime(buf, `,"deadline":`, s.Deadline)
	buf = plainjson.AppendNonEmpty(buf, `,"schedule_id":`, s.ScheduleID)
	buf, ok3 := plainjson.AppendNonZeroTime(buf, `,"fire_time":`, s.FireTime)
	return append(buf, '}'), ok && ok2 && ok3
}

// plainStrings reports whether encoding/json writes each string between
// quotes as it is: printable ASCII without quotes or backslashes (HTML
// characters stay, as encodeJSON does not escape them).
func plainStrings(list []string) bool {
	for _, s := range list {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
				return false
			}
		}
	}
	return true
}

// submitEncodedSize is room for groups' JSON: weighSpecs's bytes, with
// what a plain spec's keys and numbers take (about 128 bytes) in place
// of its generous specOverhead.
func submitEncodedSize(groups [][]JobSpec) int {
	n := 32
	for _, g := range groups {
		items, bytes := weighSpecs(g)
		n += bytes - items*(specOverhead-128)
	}
	return n
}
