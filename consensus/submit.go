package consensus

import (
	"cmp"
	"context"
	"encoding/base64"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SubmitGroupsCmd carries several independent submits in one entry: each
// group is atomic on its own, and one group's error leaves the others
// untouched. It is how a node commits concurrent submits together.
type SubmitGroupsCmd struct {
	Groups [][]JobSpec `json:"groups"`
	// Brief asks for the short answer (submit_brief.go). Nodes of older
	// builds ignore it and answer in full.
	Brief bool `json:"brief,omitempty"`
	// More marks the forward of a busy follower, whose next forward
	// the leader then waits for before its next entry
	// (groupcommit_forwards.go). Only forwards carry it, and replicas
	// ignore it in an entry; leaders of older builds ignore it, and read
	// a forward that has it with json.Unmarshal instead of decodeFast.
	More bool `json:"more,omitempty"`
}

// GroupResult is the outcome of one group of a SubmitGroupsCmd.
type GroupResult struct {
	Jobs  []Job  `json:"jobs,omitempty"`
	Error *Error `json:"error,omitempty"`
}

func (s jobsApply) submitGroups(c applyContext, cmd *SubmitGroupsCmd) (submitAnswer, error) {
	if cmd.Brief && !c.replay && !c.following {
		return submitAnswer{brief: s.briefGroups(c, cmd.Groups)}, nil
	}
	out := make([]GroupResult, len(cmd.Groups))
	for i, group := range cmd.Groups {
		out[i].Jobs, out[i].Error = s.submitGroup(c, group)
	}
	if c.following {
		// The groups are applied; their results, a copy of every job,
		// went to no one on a follower (7% of its allocations under
		// batched submits).
		return submitAnswer{}, errFollowing()
	}
	return submitAnswer{full: out}, nil
}

// specOverhead approximates a spec's encoded size besides its params
// and strings: keys, numbers, times.
const specOverhead = 256

// submitsInFlight is how many merged submit entries one node keeps in
// flight. One: the calls that arrive while an entry commits all go in the
// next, which on the leader merges the followers' forwards with its own
// calls (newSubmitBatcher), and on a follower is one call forwarded to
// the leader. Every further entry in flight only splits the same jobs over
// more entries, each a log write on every node, and more forwards, each a
// request to the leader: on a machine whose CPU the load fills, they cost
// more than the wait for the entry in flight. Under 64 single-submit
// clients over three processes, one instead of two took the jobs per
// entry from 14.2 to 20.7, the nodes' CPU per job from 223 to 157 µs and
// the per-call p50 from 12.0 to 7.1 ms (medians of four interleaved
// pairs, load average 3 to 9 on two cores); batched submits went from
// 180 to 237 jobs per entry. Earlier, two instead of four had taken the
// jobs per entry from 8.7 to 15.6.
const submitsInFlight = 1

// weighSpecs is a submit's share of a merged entry: at least the bytes
// its specs encode to, so that maxGroupBytes bounds the entry whatever
// one client sends (sealed parameters are base64 in the entry, and a
// string's escapes cost up to six bytes a byte).
func weighSpecs(specs []JobSpec) (items, bytes int) {
	for _, spec := range specs {
		bytes += specOverhead + len(spec.Params) + jsonLen(spec.ID) + jsonLen(spec.WorkflowID) +
			jsonLen(spec.ExecutionMode) + jsonLen(spec.PinnedRobot) + jsonLen(spec.RerunOf) +
			jsonLen(spec.UniqueKey) + jsonLen(spec.ScheduleID) + stringsBytes(spec.RobotTags)
		if sp := spec.SealedParams; sp != nil {
			bytes += fieldOverhead + jsonLen(sp.KeyID) + base64.StdEncoding.EncodedLen(len(sp.Ciphertext))
		}
		if spec.Debug != nil {
			bytes += fieldOverhead + stringsBytes(spec.Debug.Breakpoints)
		}
	}
	return len(specs), bytes
}

func stringsBytes(list []string) int {
	n := 0
	for _, s := range list {
		n += 1 + jsonLen(s)
	}
	return n
}

// newSubmitBatcher merges the submits that arrive while earlier ones are
// being committed. A call is a list of groups, each atomic on its own:
// one for a SubmitJobs on this node, the groups of a follower's merged
// entry on the leader (ApplyRaw), so that the leader commits them with
// its own in its next entry instead of each forwarded entry
// being one more. Each call is answered its share of the entry's answer.
// forwardWaits times the leader's waits for followers' forwards.
func newSubmitBatcher(lifetime context.Context, submitGroups func(context.Context, [][]JobSpec) (submitAnswer, error),
	forwardWaits prometheus.Histogram,
) *groupCommit[[][]JobSpec, submitAnswer] {
	return &groupCommit[[][]JobSpec, submitAnswer]{
		name: "submit", weigh: weighGroups, lifetime: lifetime, maxInFlight: submitsInFlight,
		forwardIn: make(chan struct{}, 1), forwardWait: maxForwardWait, forwardWaits: forwardWaits,
		apply: func(ctx context.Context, calls [][][]JobSpec) ([]Part[submitAnswer], error) {
			var groups [][]JobSpec
			for _, call := range calls {
				groups = append(groups, call...)
			}
			a, err := submitGroups(ctx, groups)
			if err != nil {
				return nil, err
			}
			return a.split(calls)
		},
	}
}

// weighGroups is weighSpecs over every group of a call.
func weighGroups(groups [][]JobSpec) (items, bytes int) {
	for _, specs := range groups {
		i, b := weighSpecs(specs)
		items, bytes = items+i, bytes+b
	}
	return items, bytes
}

// newJob fills j, a zero Job, with the job a checked spec makes, queued
// at now as version of its workflow with sequence number seq. A submit's
// caller rebuilds its jobs with it from a brief answer
// (submit_brief.go), in place in the slice it answers. It sets the
// fields one by one: a Job literal assigned to *j was built aside and
// copied whole (384 bytes, with the garbage collector's barrier over all
// of it), a job every spec of every entry on every node.
func newJob(j *Job, spec *JobSpec, version int, seq uint64, now time.Time) {
	j.ID, j.WorkflowID, j.WorkflowVersion = spec.ID, spec.WorkflowID, version
	j.Params, j.SealedParams, j.Priority, j.ExecutionMode = spec.Params, spec.SealedParams, spec.Priority, spec.ExecutionMode
	j.RobotTags, j.PinnedRobot = spec.RobotTags, spec.PinnedRobot
	j.State, j.MaxAttempts = JobQueued, cmp.Or(spec.MaxAttempts, DefaultMaxAttempts)
	j.UniqueKey, j.NotBefore, j.Deadline = spec.UniqueKey, spec.NotBefore, spec.Deadline
	j.ScheduleID, j.FireTime = spec.ScheduleID, spec.FireTime
	j.CreatedAt, j.UpdatedAt, j.Seq = now, now, seq
	if spec.Backoff != 0 {
		j.run().Backoff = spec.Backoff
	}
	if spec.RerunOf != "" {
		j.run().RerunOf = spec.RerunOf
	}
	if spec.Debug != nil {
		j.run().Debug = &JobDebug{Options: spec.Debug.withDefaults()}
	}
}
