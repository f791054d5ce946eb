package consensus

import (
	"context"
	"encoding/base64"
)

// SubmitGroupsCmd carries several independent submits in one entry: each
// group is atomic on its own, and one group's error leaves the others
// untouched. It is how a node commits concurrent submits together.
type SubmitGroupsCmd struct {
	Groups [][]JobSpec `json:"groups"`
}

// GroupResult is the outcome of one group of a SubmitGroupsCmd.
type GroupResult struct {
	Jobs  []Job  `json:"jobs,omitempty"`
	Error *Error `json:"error,omitempty"`
}

func (s jobsApply) submitGroups(c applyContext, cmd *SubmitGroupsCmd) ([]GroupResult, error) {
	out := make([]GroupResult, len(cmd.Groups))
	for i, group := range cmd.Groups {
		out[i].Jobs, out[i].Error = s.submitGroup(c, group)
	}
	return out, nil
}

// specOverhead approximates a spec's encoded size besides its params
// and strings: keys, numbers, times.
const specOverhead = 256

// submitsInFlight is how many merged submit entries one node keeps in
// flight: enough to overlap forwarding with the commit of the previous
// entry, few enough that calls arriving meanwhile merge.
const submitsInFlight = 4

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

// newSubmitBatcher merges the SubmitJobs calls that arrive while earlier
// ones are being committed; each call is one atomic group of the entry.
func newSubmitBatcher(lifetime context.Context, submitGroups func(context.Context, [][]JobSpec) ([]GroupResult, error)) *groupCommit[[]JobSpec, []Job] {
	return &groupCommit[[]JobSpec, []Job]{
		name: "submit", weigh: weighSpecs, lifetime: lifetime, maxInFlight: submitsInFlight,
		apply: func(ctx context.Context, groups [][]JobSpec) ([]Part[[]Job], error) {
			res, err := submitGroups(ctx, groups)
			if err != nil {
				return nil, err
			}
			parts := make([]Part[[]Job], len(res))
			for i, r := range res {
				parts[i] = Part[[]Job]{Value: r.Jobs, Error: r.Error}
			}
			return parts, nil
		},
	}
}
