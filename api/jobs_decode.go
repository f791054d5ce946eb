package api

import (
	"bytes"
	"encoding/json"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/plainjson"
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
	data, err := readJSONBody(c, s.cfg.MaxBodyBytes)
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
	d := jobsDecoder{Decoder: plainjson.Decoder{Buf: data}}
	if batch != nil {
		if d.readBatch(batch) && d.Space() == len(data) {
			return nil
		}
		*batch = BatchJobsRequest{}
		return decodeStrict(data, batch)
	}
	if d.readJob(one) && d.Space() == len(data) {
		return nil
	}
	*one = JobRequest{}
	return decodeStrict(data, one)
}

// jobsDecoder reads JSON from buf at pos; each method returns false when
// the input is not of the plain form it reads.
type jobsDecoder struct {
	plainjson.Decoder
	// lastWorkflow is the workflow id read last.
	lastWorkflow string
}

// readBatch reads {"jobs":[job,...]}.
func (d *jobsDecoder) readBatch(req *BatchJobsRequest) bool {
	if !d.Next('{') || string(d.key()) != "jobs" || !d.Next('[') {
		return false
	}
	// Every plain job names its workflow: room for them all at once.
	req.Jobs = make([]JobRequest, 0, min(bytes.Count(d.Buf, []byte(`"workflow_id"`)), maxBatchJobs+1))
	if !d.Next(']') {
		for {
			req.Jobs = append(req.Jobs, JobRequest{})
			if !d.readJob(&req.Jobs[len(req.Jobs)-1]) {
				return false
			}
			if d.Next(']') {
				break
			}
			if !d.Next(',') {
				return false
			}
		}
	}
	return d.Next('}')
}

// readJob reads one job request whose keys are JobRequest's, each once.
func (d *jobsDecoder) readJob(j *JobRequest) bool {
	if !d.Next('{') {
		return false
	}
	if d.Next('}') {
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
		if d.Next('}') {
			return true
		}
		if !d.Next(',') {
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
		if b, ok = d.StringBytes(); ok && string(b) != d.lastWorkflow {
			d.lastWorkflow = string(b)
		}
		j.WorkflowID = d.lastWorkflow
	case keyWorkflowVersion:
		j.WorkflowVersion, ok = d.Int()
	case keyParams:
		j.Params, ok = d.params()
	case keyPriority:
		j.Priority, ok = d.intPtr()
	case keyExecutionMode:
		var b []byte
		b, ok = d.StringBytes()
		j.ExecutionMode = consensus.ModeString(b)
	case keyRobotTags:
		j.RobotTags, ok = d.strs()
	case keyPinnedRobot:
		j.PinnedRobot, ok = d.String()
	case keyUniqueKey:
		j.UniqueKey, ok = d.String()
	case keyMaxAttempts:
		j.MaxAttempts, ok = d.intPtr()
	case keyBackoff:
		j.Backoff, ok = d.String()
	case keyNotBefore:
		j.NotBefore, ok = d.String()
	case keyDeadline:
		j.Deadline, ok = d.String()
	}
	return ok
}

// key reads `"name":` and returns the name, or nil when the input is
// not a plain key.
func (d *jobsDecoder) key() []byte {
	if k, ok := d.Key(); ok {
		return k
	}
	return nil
}

// strs reads an array of plain strings.
func (d *jobsDecoder) strs() ([]string, bool) {
	out := []string{}
	ok := d.Array(func() bool {
		s, ok := d.String()
		out = append(out, s)
		return ok
	})
	return out, ok
}

// params reads a JSON object or array whole, as json.RawMessage keeps
// it: a copy of its bytes, without the white space around it.
func (d *jobsDecoder) params() (json.RawMessage, bool) {
	if start := d.Space(); start == len(d.Buf) || (d.Buf[start] != '{' && d.Buf[start] != '[') {
		return nil, false
	}
	raw, ok := d.Raw()
	return bytes.Clone(raw), ok
}

func (d *jobsDecoder) intPtr() (*int, bool) {
	n, ok := d.Int()
	return &n, ok
}
