package gatewayproto

import (
	"encoding/json"
	"slices"
	"strconv"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/plainjson"
)

// A work call is every internet robot's call per job. Read by
// json.Unmarshal, its body was scanned whole to check it, then again to
// decode it by reflection, and its completions a third time to hand them
// to consensus.DecodeJSON: 4.5% of the dispatch bench's CPU on the
// gateway. Written by json.Marshal, it was 1.6% on the robots. The two
// functions here read and write the plain form robots send without
// reflection, and leave anything else to encoding/json;
// FuzzDecodeWorkRequestAsJSON and FuzzWorkRequestAppendJSON hold them to
// it.

// decodeWorkFast reads body when it is a work request in the plain form
// robots write: the two keys spelt exactly, each at most once, the
// claim's strings without escapes. It reports false for anything else,
// which json.Unmarshal then reads or refuses.
func decodeWorkFast(body []byte) (WorkRequest, bool) {
	d := plainjson.Decoder{Buf: body}
	var req WorkRequest
	var complete []byte
	ok := d.Object([]string{"claim", "complete"}, func(i int) bool {
		if i == 0 {
			return readClaim(&d, &req.Claim)
		}
		if d.Literal("null") {
			return true
		}
		var ok bool
		complete, ok = d.Skip()
		return ok
	})
	if !ok || d.Space() != len(body) {
		return WorkRequest{}, false
	}
	if complete != nil {
		// DecodeJSON checks what it reads: the bytes Skip took unchecked
		// are one valid value, or the whole body goes to json.Unmarshal.
		req.Complete = &consensus.CompleteCmd{}
		if consensus.DecodeJSON(complete, req.Complete) != nil {
			return WorkRequest{}, false
		}
	}
	return req, true
}

func readClaim(d *plainjson.Decoder, c *ClaimRequest) bool {
	return d.Object([]string{"max", "request_id", "wait_ms", "have", "compact"}, func(i int) bool {
		var ok bool
		switch i {
		case 0:
			c.Max, ok = d.Int()
		case 1:
			c.RequestID, ok = d.String()
		case 2:
			c.WaitMS, ok = d.Int()
		case 3:
			c.Have = []consensus.GraphRef{}
			ok = d.Array(func() bool {
				c.Have = append(c.Have, consensus.GraphRef{})
				return readGraphRef(d, &c.Have[len(c.Have)-1])
			})
		default:
			c.Compact, ok = d.Bool()
		}
		return ok
	})
}

func readGraphRef(d *plainjson.Decoder, r *consensus.GraphRef) bool {
	return d.Object([]string{"workflow_id", "version"}, func(i int) bool {
		var ok bool
		if i == 0 {
			r.WorkflowID, ok = d.String()
		} else {
			r.Version, ok = d.Int()
		}
		return ok
	})
}

// AppendJSON appends r as JSON to buf: the body of a robot's work call.
func (r *WorkRequest) AppendJSON(buf []byte) ([]byte, error) {
	if out, ok := r.appendFast(buf); ok {
		return out, nil
	}
	body, err := json.Marshal(r)
	if err != nil {
		return buf, err
	}
	return append(buf, body...), nil
}

// appendFast writes r field for field as json.Marshal does, when its
// strings need no escapes, except that the completions are written as a
// robot report entry writes them (consensus.AppendCompleteJSON), without
// escaping HTML characters in their results and checkpoints: the same
// JSON value. It reports false otherwise, with buf up to its length
// untouched.
func (r *WorkRequest) appendFast(buf []byte) ([]byte, bool) {
	c := &r.Claim
	if !plainjson.Plain(c.RequestID) {
		return buf, false
	}
	size := 120 + len(c.RequestID) + 60*len(c.Have)
	if r.Complete != nil {
		for i := range r.Complete.Items {
			it := &r.Complete.Items[i]
			size += 200 + len(it.Result) + len(it.Checkpoint) + 120*len(it.Logs) + 40*len(it.NodeStatus)
		}
	}
	buf = strconv.AppendInt(append(slices.Grow(buf, size), `{"claim":{"max":`...), int64(c.Max), 10)
	buf = plainjson.AppendString(append(buf, `,"request_id":`...), c.RequestID)
	buf = strconv.AppendInt(append(buf, `,"wait_ms":`...), int64(c.WaitMS), 10)
	if len(c.Have) > 0 {
		buf = append(buf, `,"have":[`...)
		for i, h := range c.Have {
			if !plainjson.Plain(h.WorkflowID) {
				return buf, false
			}
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = plainjson.AppendString(append(buf, `{"workflow_id":`...), h.WorkflowID)
			buf = append(strconv.AppendInt(append(buf, `,"version":`...), int64(h.Version), 10), '}')
		}
		buf = append(buf, ']')
	}
	if c.Compact {
		buf = append(buf, `,"compact":true`...)
	}
	buf = append(buf, '}')
	if r.Complete != nil {
		var ok bool
		if buf, ok = consensus.AppendCompleteJSON(append(buf, `,"complete":`...), r.Complete); !ok {
			return buf, false
		}
	}
	return append(buf, '}'), true
}
