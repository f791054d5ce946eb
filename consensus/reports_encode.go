package consensus

import (
	"slices"
	"strconv"

	"github.com/casare/casare/internal/plainjson"
)

// Every node encodes the heartbeats and completions of the robots it
// serves into one entry after another, and encoding/json's reflective
// walk of them (maps of node status sorted, log lines' times boxed) was
// 4% of the three nodes' CPU end to end (bench/queue -cpuprofile).
// appendFast writes the plain reports robots send, byte for byte what
// encodeJSON writes, and leaves anything else (a debug report, secrets
// to store, a string outside printable ASCII, raw JSON to compact) to
// encodeJSON. FuzzRobotReportsAppendFast holds the two equal.

// appendFast appends c's JSON to buf, or reports false when c is not of
// the plain form it writes.
func (c *RobotReportsCmd) appendFast(buf []byte) ([]byte, bool) {
	if c.Reports == nil {
		return buf, false
	}
	buf = append(buf, `{"reports":[`...)
	ok := true
	for i := range c.Reports {
		if i > 0 {
			buf = append(buf, ',')
		}
		r := &c.Reports[i]
		buf = append(buf, '{')
		if r.Progress != nil {
			buf, ok = appendProgressCmd(append(buf, `"progress":`...), r.Progress)
			if !ok {
				return buf, false
			}
		}
		if r.Complete != nil {
			if r.Progress != nil {
				buf = append(buf, ',')
			}
			buf, ok = appendCompleteCmd(append(buf, `"complete":`...), r.Complete)
			if !ok {
				return buf, false
			}
		}
		buf = append(buf, '}')
	}
	return append(buf, "]}"...), true
}

func appendProgressCmd(buf []byte, p *ProgressCmd) ([]byte, bool) {
	if p.Items == nil || !plainStrings([]string{p.RobotID}) {
		return buf, false
	}
	buf = plainjson.AppendString(append(buf, `{"robot_id":`...), p.RobotID)
	buf = append(buf, `,"items":[`...)
	for i := range p.Items {
		if i > 0 {
			buf = append(buf, ',')
		}
		it := &p.Items[i]
		if it.Debug != nil || !plainStrings([]string{it.JobID}) {
			return buf, false
		}
		buf = appendJobToken(buf, it.JobID, it.Token)
		var ok bool
		if buf, ok = appendRun(buf, it.Checkpoint, it.Logs, it.LogsEnd, it.NodeStatus); !ok {
			return buf, false
		}
		buf = append(buf, '}')
	}
	return append(buf, "]}"...), true
}

// AppendCompleteJSON appends c's JSON to buf without reflection, as a
// robot report entry writes it, when c is of the plain form robots send:
// for a robot's call that carries completions (gatewayproto's work
// call). It reports false for any other c, with buf up to its length
// untouched, and the caller encodes c with encoding/json.
func AppendCompleteJSON(buf []byte, c *CompleteCmd) ([]byte, bool) {
	return appendCompleteCmd(buf, c)
}

func appendCompleteCmd(buf []byte, c *CompleteCmd) ([]byte, bool) {
	if c.Items == nil || !plainStrings([]string{c.RobotID}) {
		return buf, false
	}
	buf = plainjson.AppendString(append(buf, `{"robot_id":`...), c.RobotID)
	buf = append(buf, `,"items":[`...)
	for i := range c.Items {
		if i > 0 {
			buf = append(buf, ',')
		}
		it := &c.Items[i]
		if it.Debug != nil || len(it.StoreSecrets) > 0 || !plainStrings([]string{it.JobID, it.Error, it.FailureKind}) ||
			(len(it.Result) > 0 && !plainjson.CompactASCII(it.Result)) {
			return buf, false
		}
		buf = appendJobToken(buf, it.JobID, it.Token)
		buf = strconv.AppendBool(append(buf, `,"succeeded":`...), it.Succeeded)
		if len(it.Result) > 0 {
			buf = append(append(buf, `,"result":`...), it.Result...)
		}
		buf = plainjson.AppendNonEmpty(buf, `,"error":`, it.Error)
		buf = plainjson.AppendNonEmpty(buf, `,"failure_kind":`, it.FailureKind)
		var ok bool
		if buf, ok = appendRun(buf, it.Checkpoint, it.Logs, it.LogsEnd, it.NodeStatus); !ok {
			return buf, false
		}
		buf = append(buf, '}')
	}
	return append(buf, "]}"...), true
}

// appendJobToken opens an item with its job id and fencing token.
func appendJobToken(buf []byte, id string, token uint64) []byte {
	buf = plainjson.AppendString(append(buf, `{"job_id":`...), id)
	return strconv.AppendUint(append(buf, `,"token":`...), token, 10)
}

// appendRun writes the fields Progress and Completion share, in their
// order: checkpoint, logs, logs_end, node_status.
func appendRun(buf []byte, checkpoint []byte, logs []LogLine, logsEnd int, status map[string]string) ([]byte, bool) {
	if len(checkpoint) > 0 {
		if !plainjson.CompactASCII(checkpoint) {
			return buf, false
		}
		buf = append(append(buf, `,"checkpoint":`...), checkpoint...)
	}
	if len(logs) > 0 {
		buf = append(buf, `,"logs":[`...)
		for i := range logs {
			if i > 0 {
				buf = append(buf, ',')
			}
			l := &logs[i]
			if !plainStrings([]string{l.Level, l.NodeID, l.Message}) {
				return buf, false
			}
			var ok bool
			if buf, ok = plainjson.AppendTime(append(buf, `{"time":`...), l.Time); !ok {
				return buf, false
			}
			buf = plainjson.AppendString(append(buf, `,"level":`...), l.Level)
			buf = plainjson.AppendNonEmpty(buf, `,"node_id":`, l.NodeID)
			buf = plainjson.AppendString(append(buf, `,"message":`...), l.Message)
			buf = append(buf, '}')
		}
		buf = append(buf, ']')
	}
	if logsEnd != 0 {
		buf = strconv.AppendInt(append(buf, `,"logs_end":`...), int64(logsEnd), 10)
	}
	if len(status) > 0 {
		keys := make([]string, 0, len(status))
		for k, v := range status {
			if !plainStrings([]string{k, v}) {
				return buf, false
			}
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json writes a map's keys sorted
		buf = append(buf, `,"node_status":{`...)
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = plainjson.AppendString(append(plainjson.AppendString(buf, k), ':'), status[k])
		}
		buf = append(buf, '}')
	}
	return buf, true
}
