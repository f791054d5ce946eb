package consensus

import (
	"context"
	"time"
)

// A node merges what the robots it serves send (its own robot, the
// internet robots on its gateway, the robots of nodes without Raft state
// that call it): the claims of many robots commit together in one entry,
// their heartbeats and completions in another, and each robot's part is
// applied exactly as its own entry would be, with its own fencing, and
// answered on its own.

// ClaimGroupsCmd carries the claims of several robots in one entry.
type ClaimGroupsCmd struct {
	Claims []ClaimCmd `json:"claims"`
}

// RobotReportsCmd carries the heartbeats and completions of several
// robots in one entry, in the order the node received them. They share
// one entry, rather than one each, so that a heartbeat a node holds
// (see newRobotGroups) can never commit after the completion of the same
// job and have its log lines refused as stale.
type RobotReportsCmd struct {
	Reports []RobotReport `json:"reports"`
}

// RobotReport is one robot's call: a heartbeat or completions, exactly
// one of the two.
type RobotReport struct {
	Progress *ProgressCmd `json:"progress,omitempty"`
	Complete *CompleteCmd `json:"complete,omitempty"`
}

func (s queueApply) claimGroups(c applyContext, cmd *ClaimGroupsCmd) ([]Part[[]ClaimedJob], error) {
	parts := applyParts(cmd.Claims, func(claim *ClaimCmd) ([]ClaimedJob, error) { return s.claimJobs(c, claim) })
	if c.following {
		// A follower builds no copies of the jobs it leased; a caller
		// that still waits retries, and its claim's request id replays
		// the lease (claimJobs).
		return nil, errFollowing()
	}
	return parts, nil
}

func (s queueApply) robotReports(c applyContext, cmd *RobotReportsCmd) ([]Part[[]Ack], error) {
	return applyParts(cmd.Reports, func(r *RobotReport) ([]Ack, error) {
		switch {
		case r.Progress != nil && r.Complete == nil:
			return s.progress(c, r.Progress)
		case r.Complete != nil && r.Progress == nil:
			return s.completeJobs(c, r.Complete)
		}
		return nil, errorf(CodeInvalid, "a robot report needs exactly one of progress and complete")
	}), nil
}

// claimsInFlight is how many merged claim entries one node keeps in
// flight, as submitsInFlight is for submits.
const claimsInFlight = 4

// Rough encoded sizes of the parts of robot calls besides the raw JSON
// they carry, for the byte bound of a merged entry.
const (
	claimOverhead = 128
	itemOverhead  = 128
	logOverhead   = 96
)

// robotGroups are the node's batchers of robot calls.
type robotGroups struct {
	claims  *groupCommit[ClaimCmd, []ClaimedJob]
	reports *groupCommit[reportCall, []Ack]
}

// reportCall is a robot's heartbeat or completions and when it reached
// this node.
type reportCall struct {
	report  RobotReport
	arrived time.Time
}

// newRobotGroups makes the batchers over s. Heartbeats go out at most
// once per progressEvery whatever the number of robots: leases are
// renewed once per heartbeat interval anyway, so holding a heartbeat for
// up to one interval costs the robot nothing (its ack says how long it
// waited, see Ack.Waited), and the log gets one entry per interval per
// node instead of one per robot. Completions do not wait: one takes the
// held heartbeats with it. Reports keep one entry in flight, so that
// they commit in the order they came.
func newRobotGroups(lifetime context.Context, s *Store, progressEvery time.Duration) robotGroups {
	return robotGroups{
		claims: &groupCommit[ClaimCmd, []ClaimedJob]{
			name: "claim", lifetime: lifetime, maxInFlight: claimsInFlight, awaitSent: true,
			weigh: func(c ClaimCmd) (int, int) { return max(c.Max, 1), claimOverhead },
			apply: func(ctx context.Context, claims []ClaimCmd) ([]Part[[]ClaimedJob], error) {
				return apply[[]Part[[]ClaimedJob]](ctx, s, cmdClaimGroups, ClaimGroupsCmd{Claims: claims})
			},
		},
		reports: &groupCommit[reportCall, []Ack]{
			name: "robot report", lifetime: lifetime, maxInFlight: 1, gap: progressEvery,
			urgent: func(c reportCall) bool { return c.report.Complete != nil },
			wake:   make(chan struct{}, 1),
			weigh:  weighReport,
			apply: func(ctx context.Context, calls []reportCall) ([]Part[[]Ack], error) {
				return sendReports(ctx, s, calls)
			},
		},
	}
}

// sendReports commits calls in one entry and tells each heartbeat how
// long it was held here.
func sendReports(ctx context.Context, s *Store, calls []reportCall) ([]Part[[]Ack], error) {
	sent := time.Now()
	reports := make([]RobotReport, len(calls))
	for i, call := range calls {
		reports[i] = call.report
	}
	parts, err := apply[[]Part[[]Ack]](ctx, s, cmdRobotReports, RobotReportsCmd{Reports: reports})
	for i := range parts {
		if i >= len(calls) || calls[i].report.Progress == nil {
			continue
		}
		for j := range parts[i].Value {
			if parts[i].Value[j].OK {
				parts[i].Value[j].Waited = sent.Sub(calls[i].arrived)
			}
		}
	}
	return parts, err
}

func weighReport(c reportCall) (items, bytes int) {
	if c.report.Complete != nil {
		return weighCompletions(*c.report.Complete)
	}
	if c.report.Progress != nil {
		return weighProgress(*c.report.Progress)
	}
	return 0, 0
}

func weighCompletions(c CompleteCmd) (items, bytes int) {
	for _, it := range c.Items {
		bytes += itemOverhead + len(it.Result) + len(it.Checkpoint) + len(it.Error) + logBytes(it.Logs)
	}
	return len(c.Items), bytes
}

func weighProgress(c ProgressCmd) (items, bytes int) {
	for _, it := range c.Items {
		bytes += itemOverhead + len(it.Checkpoint) + logBytes(it.Logs)
	}
	return len(c.Items), bytes
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
	g.reports.close()
}
