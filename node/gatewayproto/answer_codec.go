package gatewayproto

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/plainjson"
)

// A work call's answer, like its request (work_codec.go), is written and
// read without reflection in the form a compact answer takes: its
// reading by json.Unmarshal was 3.7% of the dispatch bench's CPU on the
// robots, its writing 0.7% on the gateway. Anything else (whole jobs, a
// debug run, a job's secrets) goes through encoding/json;
// FuzzWorkAnswerAppendJSON and FuzzDecodeWorkAnswerAsJSON hold the two
// to it.

// AppendJSON appends a as JSON to buf: the body of the gateway's answer
// to a work call.
func (a *WorkAnswer) AppendJSON(buf []byte) ([]byte, error) {
	if out, ok := a.appendFast(buf); ok {
		return out, nil
	}
	body, err := json.Marshal(a)
	if err != nil {
		return buf, fmt.Errorf("encode work answer: %w", err)
	}
	return append(buf, body...), nil
}

// appendFast writes a as json.Marshal does, field for field, for an
// answer without whole jobs, debug runs or secrets whose strings need no
// escapes and whose raw values are valid JSON; it reports false
// otherwise, with buf up to its length untouched.
func (a *WorkAnswer) appendFast(buf []byte) ([]byte, bool) {
	if len(a.Jobs) > 0 || !plainjson.Plain(a.CompleteError) {
		return buf, false
	}
	size := 2 + 190*len(a.Acks) + len(a.CompleteError)
	for i := range a.Compact {
		w := &a.Compact[i]
		size += 250 + len(w.Params) + len(w.Checkpoint) + len(w.Graph)
	}
	buf = append(slices.Grow(buf, size), '{')
	if len(a.Compact) > 0 {
		buf = append(buf, `"compact":[`...)
		for i := range a.Compact {
			var ok bool
			if buf, ok = appendWorkJob(buf, &a.Compact[i], i > 0); !ok {
				return buf, false
			}
		}
		buf = append(buf, ']')
	}
	if len(a.Acks) > 0 {
		buf = append(comma(buf), `"acks":[`...)
		for i := range a.Acks {
			var ok bool
			if buf, ok = appendAck(buf, &a.Acks[i], i > 0); !ok {
				return buf, false
			}
		}
		buf = append(buf, ']')
	}
	if a.CompleteError != "" {
		buf = plainjson.AppendString(append(comma(buf), `"complete_error":`...), a.CompleteError)
	}
	return append(buf, '}'), true
}

// comma separates a field from the one before it, if there is one.
func comma(buf []byte) []byte {
	if buf[len(buf)-1] != '{' {
		return append(buf, ',')
	}
	return buf
}

func appendWorkJob(buf []byte, w *WorkJob, sep bool) ([]byte, bool) {
	if w.Debug != nil || len(w.Secrets) > 0 || !plainjson.Plain(w.ID) || !plainjson.Plain(w.WorkflowID) ||
		!plainjson.Plain(w.SecretError) || !plainjson.Plain(w.SecretErrorKind) ||
		!validRaw(w.Params) || !validRaw(w.Checkpoint) || !validRaw(w.Graph) {
		return buf, false
	}
	if sep {
		buf = append(buf, ',')
	}
	buf = plainjson.AppendString(append(buf, `{"id":`...), w.ID)
	buf = plainjson.AppendString(append(buf, `,"workflow_id":`...), w.WorkflowID)
	buf = strconv.AppendInt(append(buf, `,"workflow_version":`...), int64(w.WorkflowVersion), 10)
	buf = appendRaw(buf, `,"params":`, w.Params)
	buf = strconv.AppendInt(append(buf, `,"attempt":`...), int64(w.Attempt), 10)
	buf = strconv.AppendUint(append(buf, `,"token":`...), w.Token, 10)
	buf = appendRaw(buf, `,"checkpoint":`, w.Checkpoint)
	buf = appendRaw(buf, `,"graph":`, w.Graph)
	buf = plainjson.AppendNonEmpty(buf, `,"secret_error":`, w.SecretError)
	buf = plainjson.AppendNonEmpty(buf, `,"secret_error_kind":`, w.SecretErrorKind)
	return append(buf, '}'), true
}

func appendAck(buf []byte, a *consensus.Ack, sep bool) ([]byte, bool) {
	if a.Debug != nil || !plainjson.Plain(a.JobID) || !plainjson.Plain(string(a.State)) || !plainjson.Plain(a.Reason) {
		return buf, false
	}
	if sep {
		buf = append(buf, ',')
	}
	buf = plainjson.AppendString(append(buf, `{"job_id":`...), a.JobID)
	buf = strconv.AppendBool(append(buf, `,"ok":`...), a.OK)
	if a.Stop {
		buf = append(buf, `,"stop":true`...)
	}
	buf = plainjson.AppendNonEmpty(buf, `,"state":`, string(a.State))
	buf = plainjson.AppendNonEmpty(buf, `,"reason":`, a.Reason)
	var ok bool
	if buf, ok = plainjson.AppendNonZeroTime(buf, `,"lease_expires_at":`, a.Deadline); !ok {
		return buf, false
	}
	if a.Waited != 0 {
		buf = strconv.AppendInt(append(buf, `,"waited_ns":`...), int64(a.Waited), 10)
	}
	return append(buf, '}'), true
}

// validRaw reports whether a raw field is written as json.Marshal
// writes it: left out when empty, or as it is.
func validRaw(raw json.RawMessage) bool { return len(raw) == 0 || plainjson.PlainRaw(raw) }

func appendRaw(buf []byte, key string, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return buf
	}
	return append(append(buf, key...), raw...)
}

// DecodeWorkAnswer reads a work call's answer into a.
func DecodeWorkAnswer(body []byte, a *WorkAnswer) error {
	if decodeAnswerFast(body, a) {
		return nil
	}
	*a = WorkAnswer{}
	if err := json.Unmarshal(body, a); err != nil {
		return fmt.Errorf("decode work answer: %w", err)
	}
	return nil
}

// decodeAnswerFast reads body when it is an answer in the form
// appendFast writes, or reports false.
func decodeAnswerFast(body []byte, a *WorkAnswer) bool {
	d := plainjson.Decoder{Buf: body}
	ok := d.Object([]string{"compact", "acks", "complete_error"}, func(i int) bool {
		switch i {
		case 0:
			a.Compact = []WorkJob{}
			return d.Array(func() bool {
				a.Compact = append(a.Compact, WorkJob{})
				return readWorkJob(&d, &a.Compact[len(a.Compact)-1])
			})
		case 1:
			a.Acks = []consensus.Ack{}
			return d.Array(func() bool {
				a.Acks = append(a.Acks, consensus.Ack{})
				return readAck(&d, &a.Acks[len(a.Acks)-1])
			})
		default:
			var ok bool
			a.CompleteError, ok = d.String()
			return ok
		}
	})
	return ok && d.Space() == len(body)
}

func readWorkJob(d *plainjson.Decoder, w *WorkJob) bool {
	fields := []string{"id", "workflow_id", "workflow_version", "params", "attempt", "token", "checkpoint", "graph", "secret_error", "secret_error_kind"}
	return d.Object(fields, func(i int) bool {
		var ok bool
		switch i {
		case 0:
			w.ID, ok = d.String()
		case 1:
			w.WorkflowID, ok = d.String()
		case 2:
			w.WorkflowVersion, ok = d.Int()
		case 3:
			w.Params, ok = readRaw(d)
		case 4:
			w.Attempt, ok = d.Int()
		case 5:
			w.Token, ok = d.Uint()
		case 6:
			w.Checkpoint, ok = readRaw(d)
		case 7:
			w.Graph, ok = readRaw(d)
		case 8:
			w.SecretError, ok = d.String()
		default:
			w.SecretErrorKind, ok = d.String()
		}
		return ok
	})
}

func readAck(d *plainjson.Decoder, a *consensus.Ack) bool {
	fields := []string{"job_id", "ok", "stop", "state", "reason", "lease_expires_at", "waited_ns"}
	return d.Object(fields, func(i int) bool {
		var ok bool
		switch i {
		case 0:
			a.JobID, ok = d.String()
		case 1:
			a.OK, ok = d.Bool()
		case 2:
			a.Stop, ok = d.Bool()
		case 3:
			var s string
			s, ok = d.String()
			a.State = consensus.JobState(s)
		case 4:
			a.Reason, ok = d.String()
		case 5:
			var raw []byte
			raw, ok = d.Raw()
			ok = ok && a.Deadline.UnmarshalJSON(raw) == nil
		default:
			var n int
			n, ok = d.Int()
			a.Waited = time.Duration(n)
		}
		return ok
	})
}

// readRaw reads a value as a copy of its bytes, as json.RawMessage does.
func readRaw(d *plainjson.Decoder) (json.RawMessage, bool) {
	raw, ok := d.Raw()
	return append(json.RawMessage(nil), raw...), ok
}
