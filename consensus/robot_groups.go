package consensus

import (
	"context"
	"time"
)

// A node merges what the robots it serves send (its own robot, the
// internet robots on its gateway, the robots of nodes without Raft state
// that call it) into one entry per kind: claims, completions and
// progress reports of many robots commit together, and each robot's part
// is applied exactly as its own entry would be, with its own fencing,
// and answered on its own.

// ClaimGroupsCmd carries the claims of several robots in one entry.
type ClaimGroupsCmd struct {
	Claims []ClaimCmd `json:"claims"`
}

// CompleteGroupsCmd carries the completions of several robots in one
// entry.
type CompleteGroupsCmd struct {
	Reports []CompleteCmd `json:"reports"`
}

// ProgressGroupsCmd carries the heartbeats of several robots in one
// entry.
type ProgressGroupsCmd struct {
	Reports []ProgressCmd `json:"reports"`
}

func (s queueApply) claimGroups(c applyContext, cmd *ClaimGroupsCmd) ([]Part[[]ClaimedJob], error) {
	return applyParts(cmd.Claims, func(claim *ClaimCmd) ([]ClaimedJob, error) { return s.claimJobs(c, claim) }), nil
}

func (s queueApply) completeGroups(c applyContext, cmd *CompleteGroupsCmd) ([]Part[[]Ack], error) {
	return applyParts(cmd.Reports, func(report *CompleteCmd) ([]Ack, error) { return s.completeJobs(c, report) }), nil
}

func (s queueApply) progressGroups(c applyContext, cmd *ProgressGroupsCmd) ([]Part[[]Ack], error) {
	return applyParts(cmd.Reports, func(report *ProgressCmd) ([]Ack, error) { return s.progress(c, report) }), nil
}

// robotCallsInFlight is how many merged claim or completion entries one
// node keeps in flight, as submitsInFlight is for submits.
const robotCallsInFlight = 4

// Rough encoded sizes of the parts of robot calls besides the raw JSON
// they carry, for the byte bound of a merged entry.
const (
	claimOverhead = 128
	itemOverhead  = 128
	logOverhead   = 96
)

// robotGroups are the node's batchers of robot calls.
type robotGroups struct {
	claims    *groupCommit[ClaimCmd, []ClaimedJob]
	completes *groupCommit[CompleteCmd, []Ack]
	progress  *groupCommit[progressCall, []Ack]
}

// progressCall is a robot's heartbeat and when it reached this node.
type progressCall struct {
	cmd     ProgressCmd
	arrived time.Time
}

// newRobotGroups makes the batchers over s. Progress goes out at most
// once per progressEvery whatever the number of robots: leases are
// renewed once per heartbeat interval anyway, so holding a heartbeat for
// up to one interval costs the robot nothing (its ack says how long it
// waited, see Ack.Waited), and the log gets one entry per interval per
// node instead of one per robot.
func newRobotGroups(lifetime context.Context, s *Store, progressEvery time.Duration) robotGroups {
	return robotGroups{
		claims: &groupCommit[ClaimCmd, []ClaimedJob]{
			name: "claim", lifetime: lifetime, maxInFlight: robotCallsInFlight,
			weigh: func(c ClaimCmd) (int, int) { return max(c.Max, 1), claimOverhead },
			apply: func(ctx context.Context, claims []ClaimCmd) ([]Part[[]ClaimedJob], error) {
				return apply[[]Part[[]ClaimedJob]](ctx, s, cmdClaimGroups, ClaimGroupsCmd{Claims: claims})
			},
		},
		completes: &groupCommit[CompleteCmd, []Ack]{
			name: "complete", lifetime: lifetime, maxInFlight: robotCallsInFlight, weigh: weighCompletions,
			apply: func(ctx context.Context, reports []CompleteCmd) ([]Part[[]Ack], error) {
				return apply[[]Part[[]Ack]](ctx, s, cmdCompleteGroups, CompleteGroupsCmd{Reports: reports})
			},
		},
		progress: &groupCommit[progressCall, []Ack]{
			name: "progress", lifetime: lifetime, maxInFlight: 1, gap: progressEvery, weigh: weighProgress,
			apply: func(ctx context.Context, calls []progressCall) ([]Part[[]Ack], error) {
				sent := time.Now()
				reports := make([]ProgressCmd, len(calls))
				for i, call := range calls {
					reports[i] = call.cmd
				}
				parts, err := apply[[]Part[[]Ack]](ctx, s, cmdProgressGroups, ProgressGroupsCmd{Reports: reports})
				for i := range parts {
					for j := range parts[i].Value {
						if i < len(calls) && parts[i].Value[j].OK {
							parts[i].Value[j].Waited = sent.Sub(calls[i].arrived)
						}
					}
				}
				return parts, err
			},
		},
	}
}

func weighCompletions(c CompleteCmd) (items, bytes int) {
	for _, it := range c.Items {
		bytes += itemOverhead + len(it.Result) + len(it.Checkpoint) + len(it.Error) + logBytes(it.Logs)
	}
	return len(c.Items), bytes
}

func weighProgress(c progressCall) (items, bytes int) {
	for _, it := range c.cmd.Items {
		bytes += itemOverhead + len(it.Checkpoint) + logBytes(it.Logs)
	}
	return len(c.cmd.Items), bytes
}

func logBytes(lines []LogLine) int {
	n := 0
	for _, l := range lines {
		n += logOverhead + len(l.Message)
	}
	return n
}

func (g robotGroups) close() {
	g.claims.close()
	g.completes.close()
	g.progress.close()
}
