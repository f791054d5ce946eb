package gatewayproto

import (
	"encoding/json"
	"fmt"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/plainjson"
)

// WorkRequest is an internet robot's claim with the completions that
// freed its slots: one round trip per job instead of a claim and a
// completion each. The node sends the completions with the claim, in one
// entry, when the claim may go at once, and otherwise on their own at
// once, so a claim held for work does not hold them back.
type WorkRequest struct {
	Claim ClaimRequest `json:"claim"`
	// Complete, when set, carries completions as MethodComplete would;
	// the node overwrites its robot id with the tunnel's.
	Complete *consensus.CompleteCmd `json:"complete,omitempty"`
}

// WorkAnswer is the outcome of a WorkRequest: the jobs claimed, and the
// completions' acks or why they were not reported. A failed claim fails
// the whole call, and the robot sends its completions again (they are
// idempotent by their lease tokens).
type WorkAnswer struct {
	Jobs []consensus.ClaimedJob `json:"jobs,omitempty"`
	// Compact holds the jobs claimed instead of Jobs when the claim asked
	// for them so (ClaimRequest.Compact).
	Compact []WorkJob       `json:"compact,omitempty"`
	Acks    []consensus.Ack `json:"acks,omitempty"`
	// CompleteError says why the completions were not reported; the
	// robot reports them again on their own.
	CompleteError string `json:"complete_error,omitempty"`
}

// Claimed returns the jobs claimed, whichever form they came in.
func (a WorkAnswer) Claimed() []consensus.ClaimedJob {
	if len(a.Compact) == 0 {
		return a.Jobs
	}
	jobs := make([]consensus.ClaimedJob, 0, len(a.Jobs)+len(a.Compact))
	jobs = append(jobs, a.Jobs...)
	for _, w := range a.Compact {
		jobs = append(jobs, w.Claimed())
	}
	return jobs
}

// maxWorkCompletions bounds the completions one WorkRequest may carry: a
// robot sends those of the slots it frees, and its capacity is bounded
// far below this, so more is a broken or hostile robot.
const maxWorkCompletions = 4096

// maxCallContainers bounds the JSON objects and arrays in one call's
// body outside its results, checkpoints and debug variables
// (CheckContainers). Each costs a Go value of up to a few hundred bytes
// once decoded: a completion, a log line, a map of node states. A
// robot's calls hold far fewer, as a log line alone takes some 40 bytes
// of time and message, so a megabyte frame holds about 26,000 of them.
const maxCallContainers = 1 << 15

// rawPaths are, for each method, where a body's values stay encoded
// (json.RawMessage), so that what they hold costs one copy. A work call
// carries a complete call's body under "complete".
var rawPaths = func() map[string][]string {
	complete := []string{"items.*.result", "items.*.checkpoint", "items.*.debug.variables"}
	progress := []string{"items.*.checkpoint", "items.*.debug.variables"}
	work := make([]string, len(complete))
	for i, p := range complete {
		work[i] = "complete." + p
	}
	return map[string][]string{MethodWork: work, MethodComplete: complete, MethodProgress: progress, MethodHandBack: progress}
}()

// CheckContainers refuses a call body whose decoding would cost far more
// memory than its bytes: before it, a 1 MiB frame of empty completions
// made the gateway allocate about 300 MB before their number was
// checked. The gateway runs it on every call before decoding; a robot's
// usual calls are too small to be scanned (plainjson.ContainersOver).
func CheckContainers(method string, body []byte) error {
	if n, over := plainjson.ContainersOver(body, maxCallContainers, rawPaths[method]...); over {
		return fmt.Errorf("%s call: %d JSON objects and arrays besides results, checkpoints and debug variables, at most %d in one call", method, n, maxCallContainers)
	}
	return nil
}

// DecodeWorkRequest decodes and checks a WorkRequest. It refuses a claim
// that asks for nothing or waits a negative time and an oversized batch
// of completions, naming what is wrong. Unknown fields are ignored, as in
// the other methods' bodies, so that a newer robot's additions do not
// lock it out of an older node.
//
// What robots write is read without reflection (decodeWorkFast, and
// consensus.DecodeJSON for the completions); FuzzDecodeWorkRequestAsJSON
// holds the whole to json.Unmarshal.
func DecodeWorkRequest(body []byte) (WorkRequest, error) {
	if req, ok := decodeWorkFast(body); ok {
		return checked(req)
	}
	var wire struct {
		Claim    ClaimRequest  `json:"claim"`
		Complete completeField `json:"complete"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return WorkRequest{}, fmt.Errorf("decode work request: %w", err)
	}
	return checked(WorkRequest{Claim: wire.Claim, Complete: wire.Complete.cmd})
}

// checked returns req, or nothing and why the gateway cannot serve it.
func checked(req WorkRequest) (WorkRequest, error) {
	switch {
	case req.Claim.Max <= 0:
		return WorkRequest{}, fmt.Errorf("work request: claim.max must be positive, got %d", req.Claim.Max)
	case req.Claim.WaitMS < 0:
		return WorkRequest{}, fmt.Errorf("work request: claim.wait_ms must not be negative, got %d", req.Claim.WaitMS)
	case req.Complete != nil && len(req.Complete.Items) > maxWorkCompletions:
		return WorkRequest{}, fmt.Errorf("work request: %d completions, at most %d in one call", len(req.Complete.Items), maxWorkCompletions)
	}
	return req, nil
}

// completeField reads WorkRequest.Complete as json.Unmarshal reads a
// *consensus.CompleteCmd, the first value through consensus.DecodeJSON.
// A key given twice, which no robot sends, merges into the first as
// json.Unmarshal merges it.
type completeField struct{ cmd *consensus.CompleteCmd }

func (f *completeField) UnmarshalJSON(data []byte) error {
	switch {
	case string(data) == "null":
		f.cmd = nil
		return nil
	case f.cmd != nil:
		return json.Unmarshal(data, f.cmd)
	}
	f.cmd = &consensus.CompleteCmd{}
	return consensus.DecodeJSON(data, f.cmd)
}
