package consensus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// A merged submit's answer used to copy every job it queued, and a
// follower's came back as the JSON of those copies: under batched
// submits the leader's encoding and the follower's decoding of it were
// some 15% of their CPU and allocations (bench/queue -cpuprofile). A job
// a spec made is the spec plus what the entry decided, its sequence
// number, its workflow version and the entry's time, so a node that asks
// for it (SubmitGroupsCmd.Brief) is answered that alone and rebuilds the
// jobs from its own specs (newJob, the function the FSM makes them with).
// A spec that named a job already there (a retry, a unique key) is
// answered with that job in full. A leader of an older build ignores
// Brief and answers the copies, which submitAnswer reads as well.

// submitAnswer is the FSM's answer to a SubmitGroupsCmd: one of full
// (the command did not ask for brief) or brief.
type submitAnswer struct {
	full  []GroupResult
	brief *briefAnswer
}

// briefAnswer names, for each group, what each spec came to.
type briefAnswer struct {
	// At is the entry's time: every job it made was created then.
	At     time.Time    `json:"at"`
	Groups []briefGroup `json:"groups"`
}

// briefGroup is one group's outcome: an error, or one madeJob a spec.
type briefGroup struct {
	Error *Error    `json:"error,omitempty"`
	Jobs  []madeJob `json:"jobs,omitempty"`
}

// madeJob is what one spec came to: the job it made (Seq and Version),
// or the job that already had its id or unique key, in full.
type madeJob struct {
	Seq     uint64 `json:"seq,omitempty"`
	Version int    `json:"version,omitempty"`
	Job     *Job   `json:"job,omitempty"`
}

// MarshalJSON writes a brief answer as {"brief":...} and a full one as
// the array of GroupResult older builds read.
func (a submitAnswer) MarshalJSON() ([]byte, error) {
	if a.brief != nil {
		return encodeJSON(struct {
			Brief *briefAnswer `json:"brief"`
		}{a.brief})
	}
	return encodeJSON(a.full)
}

// UnmarshalJSON reads either form: a leader of an older build answers
// the full one whatever the command asked.
func (a *submitAnswer) UnmarshalJSON(data []byte) error {
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		var b struct {
			Brief *briefAnswer `json:"brief"`
		}
		if err := json.Unmarshal(data, &b); err != nil {
			return err
		}
		if b.Brief == nil {
			return fmt.Errorf("submit answer: an object without brief")
		}
		*a = submitAnswer{brief: b.Brief}
		return nil
	}
	*a = submitAnswer{}
	return json.Unmarshal(data, &a.full)
}

// briefGroups applies the groups and answers briefly.
func (s jobsApply) briefGroups(c applyContext, groups [][]JobSpec) *briefAnswer {
	out := &briefAnswer{At: c.now, Groups: make([]briefGroup, len(groups))}
	for i, specs := range groups {
		jobs := make([]madeJob, 0, len(specs))
		out.Groups[i].Error = s.queueGroup(c, specs, func(j *Job, made bool) {
			if made {
				jobs = append(jobs, madeJob{Seq: j.Seq, Version: j.WorkflowVersion})
				return
			}
			cp := cloneJob(j)
			jobs = append(jobs, madeJob{Job: &cp})
		})
		if out.Groups[i].Error == nil {
			out.Groups[i].Jobs = jobs
		}
	}
	return out
}

// results turns the answer into one GroupResult a group of groups, the
// specs the command carried.
func (a submitAnswer) results(groups [][]JobSpec) ([]GroupResult, error) {
	if a.brief == nil {
		if len(a.full) != len(groups) {
			return nil, fmt.Errorf("submit: %d groups answered %d results", len(groups), len(a.full))
		}
		return a.full, nil
	}
	if len(a.brief.Groups) != len(groups) {
		return nil, fmt.Errorf("submit: %d groups answered %d results", len(groups), len(a.brief.Groups))
	}
	out := make([]GroupResult, len(groups))
	for i, g := range a.brief.Groups {
		if g.Error != nil {
			out[i].Error = g.Error
			continue
		}
		jobs, err := g.rebuild(groups[i], a.brief.At)
		if err != nil {
			return nil, fmt.Errorf("submit group %d: %w", i, err)
		}
		out[i].Jobs = jobs
	}
	return out, nil
}

// split cuts the answer to a merged entry into one answer a call, each
// call the groups it brought, in the entry's order.
func (a submitAnswer) split(calls [][][]JobSpec) ([]Part[submitAnswer], error) {
	total := 0
	for _, call := range calls {
		total += len(call)
	}
	if n := a.groups(); n != total {
		return nil, fmt.Errorf("submit: %d groups answered %d results", total, n)
	}
	out := make([]Part[submitAnswer], len(calls))
	off := 0
	for i, call := range calls {
		end := off + len(call)
		if a.brief != nil {
			out[i].Value.brief = &briefAnswer{At: a.brief.At, Groups: a.brief.Groups[off:end:end]}
		} else {
			out[i].Value.full = a.full[off:end:end]
		}
		off = end
	}
	return out, nil
}

// groups is how many groups the answer answers.
func (a submitAnswer) groups() int {
	if a.brief != nil {
		return len(a.brief.Groups)
	}
	return len(a.full)
}

// rebuild makes the jobs of one group's specs as the FSM made them.
func (g briefGroup) rebuild(specs []JobSpec, at time.Time) ([]Job, error) {
	if len(g.Jobs) != len(specs) {
		return nil, fmt.Errorf("%d specs answered %d jobs", len(specs), len(g.Jobs))
	}
	out := make([]Job, len(specs))
	for k, m := range g.Jobs {
		switch {
		case m.Job != nil:
			out[k] = *m.Job
		case m.Seq != 0 && m.Version != 0:
			spec := specs[k]
			// The entry carries the spec as encodeJSON wrote it: its
			// params compacted, its tags the FSM's own.
			spec.Params, spec.RobotTags = compactJSON(spec.Params), slices.Clone(spec.RobotTags)
			newJob(&out[k], &spec, m.Version, m.Seq, at)
		default:
			return nil, fmt.Errorf("job %d answered neither a job nor its sequence number and version", k)
		}
	}
	return out, nil
}

// compactJSON is raw as encoding/json writes it inside a value: without
// white space outside strings.
func compactJSON(raw json.RawMessage) json.RawMessage {
	if !bytes.ContainsAny(raw, " \t\r\n") {
		return raw
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}
