package api

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// Under batched submits, decoding the body with encoding/json (reflection,
// case-folded field lookup, a slice of requests grown by doubling) was
// about 7% of the CPU of the node that served the call (bench/queue
// -cpuprofile, POST /jobs/batch ×100). Clients send the plain form:
// known keys spelled as documented, each once, strings without escapes,
// integers. jobsDecoder reads that form and nothing else; anything else
// (an escape, a null, an unknown or differently cased key, a debug
// object, bad JSON) goes to decodeStrict, which decodes it or names what
// is wrong as before. FuzzDecodeJobsFast holds the two equal.

// bindJobs reads the body of POST /jobs/batch (batch set) or POST /jobs
// into req or one, as bindJSON does. On failure it has answered and
// returns false.
func (s *Server) bindJobs(c *gin.Context, batch *BatchJobsRequest, one *JobRequest) bool {
	data, err := readBody(c, s.cfg.MaxBodyBytes)
	if err == nil {
		err = decodeJobs(data, batch, one)
	}
	if err != nil {
		s.abort(c, err)
		return false
	}
	return true
}

// decodeJobs decodes data into batch, or into one when batch is nil, as
// decodeStrict does.
func decodeJobs(data []byte, batch *BatchJobsRequest, one *JobRequest) error {
	if err := checkUTF8(data, ""); err != nil {
		return err
	}
	d := jobsDecoder{buf: data}
	if batch != nil {
		if d.readBatch(batch) && d.space() == len(data) {
			return nil
		}
		*batch = BatchJobsRequest{}
		return decodeStrict(data, batch)
	}
	if d.readJob(one) && d.space() == len(data) {
		return nil
	}
	*one = JobRequest{}
	return decodeStrict(data, one)
}

// jobsDecoder reads JSON from buf at pos; each method returns false when
// the input is not of the plain form it reads.
type jobsDecoder struct {
	buf []byte
	pos int
	// lastWorkflow is the workflow id read last.
	lastWorkflow string
}

// space moves past white space and returns the position.
func (d *jobsDecoder) space() int {
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

// next moves past b, the next token, or reports that it is not next.
func (d *jobsDecoder) next(b byte) bool {
	if d.space() < len(d.buf) && d.buf[d.pos] == b {
		d.pos++
		return true
	}
	return false
}

// readBatch reads {"jobs":[job,...]}.
func (d *jobsDecoder) readBatch(req *BatchJobsRequest) bool {
	if !d.next('{') || string(d.key()) != "jobs" || !d.next('[') {
		return false
	}
	// Every plain job names its workflow: room for them all at once.
	req.Jobs = make([]JobRequest, 0, min(bytes.Count(d.buf, []byte(`"workflow_id"`)), maxBatchJobs+1))
	if !d.next(']') {
		for {
			req.Jobs = append(req.Jobs, JobRequest{})
			if !d.readJob(&req.Jobs[len(req.Jobs)-1]) {
				return false
			}
			if d.next(']') {
				break
			}
			if !d.next(',') {
				return false
			}
		}
	}
	return d.next('}')
}

// key reads `"name":` and returns the name, or nil when the input is
// not a plain key.
func (d *jobsDecoder) key() []byte {
	k, ok := d.bytes()
	if !ok || !d.next(':') {
		return nil
	}
	return k
}

// readJob reads one job request whose keys are JobRequest's, each once.
func (d *jobsDecoder) readJob(j *JobRequest) bool {
	if !d.next('{') {
		return false
	}
	if d.next('}') {
		return true
	}
	var seen uint16
	for {
		bit := jobKeys[string(d.key())]
		if bit == 0 || seen&bit != 0 {
			return false
		}
		seen |= bit
		if !d.jobField(j, bit) {
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

// The keys readJob reads, each a bit in the set of keys seen. Debug is
// not among them: a debug request is rare, and decodeStrict reads it.
const (
	keyWorkflowID uint16 = 1 << iota
	keyWorkflowVersion
	keyParams
	keyPriority
	keyExecutionMode
	keyRobotTags
	keyPinnedRobot
	keyUniqueKey
	keyMaxAttempts
	keyBackoff
	keyNotBefore
	keyDeadline
)

var jobKeys = map[string]uint16{
	"workflow_id": keyWorkflowID, "workflow_version": keyWorkflowVersion, "params": keyParams,
	"priority": keyPriority, "execution_mode": keyExecutionMode, "robot_tags": keyRobotTags,
	"pinned_robot": keyPinnedRobot, "unique_key": keyUniqueKey, "max_attempts": keyMaxAttempts,
	"backoff": keyBackoff, "not_before": keyNotBefore, "deadline": keyDeadline,
}

func (d *jobsDecoder) jobField(j *JobRequest, key uint16) bool {
	ok := true
	switch key {
	case keyWorkflowID:
		// A batch names the same workflow job after job: one string.
		var b []byte
		if b, ok = d.bytes(); ok && string(b) != d.lastWorkflow {
			d.lastWorkflow = string(b)
		}
		j.WorkflowID = d.lastWorkflow
	case keyWorkflowVersion:
		j.WorkflowVersion, ok = d.int()
	case keyParams:
		j.Params, ok = d.params()
	case keyPriority:
		j.Priority, ok = d.intPtr()
	case keyExecutionMode:
		var b []byte
		b, ok = d.bytes()
		j.ExecutionMode = modeString(b)
	case keyRobotTags:
		j.RobotTags, ok = d.strs()
	case keyPinnedRobot:
		j.PinnedRobot, ok = d.str()
	case keyUniqueKey:
		j.UniqueKey, ok = d.str()
	case keyMaxAttempts:
		j.MaxAttempts, ok = d.intPtr()
	case keyBackoff:
		j.Backoff, ok = d.str()
	case keyNotBefore:
		j.NotBefore, ok = d.str()
	case keyDeadline:
		j.Deadline, ok = d.str()
	}
	return ok
}

// modeString is b as a string, without a copy for the modes there are.
func modeString(b []byte) string {
	for _, m := range [...]string{consensus.ModeLAN, consensus.ModeInternet, consensus.ModeAny} {
		if string(b) == m {
			return m
		}
	}
	return string(b)
}

// str reads a string without escapes or control characters (the body's
// UTF-8 is checked before).
func (d *jobsDecoder) str() (string, bool) {
	b, ok := d.bytes()
	return string(b), ok
}

// bytes is str without the copy: the bytes inside the quotes, in buf.
func (d *jobsDecoder) bytes() ([]byte, bool) {
	if !d.next('"') {
		return nil, false
	}
	start := d.pos
	for ; d.pos < len(d.buf); d.pos++ {
		switch c := d.buf[d.pos]; {
		case c == '"':
			d.pos++
			return d.buf[start : d.pos-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// strs reads an array of plain strings.
func (d *jobsDecoder) strs() ([]string, bool) {
	if !d.next('[') {
		return nil, false
	}
	out := []string{}
	if d.next(']') {
		return out, true
	}
	for {
		s, ok := d.str()
		if !ok {
			return nil, false
		}
		out = append(out, s)
		if d.next(']') {
			return out, true
		}
		if !d.next(',') {
			return nil, false
		}
	}
}

// int reads an integer as JSON writes it: no fraction, no exponent, no
// leading zeros, within int.
func (d *jobsDecoder) int() (int, bool) {
	start := d.space()
	if d.pos < len(d.buf) && d.buf[d.pos] == '-' {
		d.pos++
	}
	digits := d.pos
	for d.pos < len(d.buf) && d.buf[d.pos] >= '0' && d.buf[d.pos] <= '9' {
		d.pos++
	}
	if d.pos == digits || (d.buf[digits] == '0' && d.pos-digits > 1) {
		return 0, false
	}
	if d.pos < len(d.buf) {
		if c := d.buf[d.pos]; c == '.' || c == 'e' || c == 'E' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(d.buf[start:d.pos]))
	return n, err == nil
}

func (d *jobsDecoder) intPtr() (*int, bool) {
	n, ok := d.int()
	return &n, ok
}

// params reads a JSON object or array whole, as json.RawMessage keeps
// it: its own bytes, without the white space around it.
func (d *jobsDecoder) params() (json.RawMessage, bool) {
	start := d.space()
	if start == len(d.buf) || (d.buf[start] != '{' && d.buf[start] != '[') {
		return nil, false
	}
	depth, inString := 0, false
	for ; d.pos < len(d.buf); d.pos++ {
		c := d.buf[d.pos]
		switch {
		case inString:
			if c == '\\' {
				d.pos++ // the escaped byte cannot end the string
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				d.pos++
				raw := d.buf[start:d.pos]
				if !json.Valid(raw) {
					return nil, false
				}
				return bytes.Clone(raw), true
			}
		}
	}
	return nil, false
}
