package consensus

import (
	"context"
	"fmt"
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
	// Brief asks for the leased jobs' ids instead of copies of them
	// (claim_brief.go); older builds ignore it.
	Brief bool `json:"brief,omitempty"`
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

// claimGroups answers without graphs: the node that serves the claims
// fills them in from its own replica (RobotQueue.Claim). In the answer,
// every job of a merged claim carried its workflow's graph again, and a
// leader's answer to a follower grew past what the follower reads.
func (s queueApply) claimGroups(c applyContext, cmd *ClaimGroupsCmd) (claimAnswer, error) {
	parts := applyParts(cmd.Claims, func(claim *ClaimCmd) ([]ClaimedJob, error) {
		jobs, err := s.claimJobs(c, claim)
		for i := range jobs {
			jobs[i].Graph = nil
		}
		return jobs, err
	})
	if c.following {
		// A follower builds no copies of the jobs it leased; a caller
		// that still waits retries, and its claim's request id replays
		// the lease (claimJobs).
		return claimAnswer{}, errFollowing()
	}
	return claimAnswer{full: parts, asked: cmd.Brief}, nil
}

// fillGraphs puts each claimed job's graph into the claim, from this
// replica: it has applied the claim when attachSecrets succeeded, and a
// version it lacks otherwise (a replica far behind) leaves the graph out,
// which a robot fetches then (node/robot GraphSource).
func (s RobotQueue) fillGraphs(jobs []ClaimedJob) {
	s.fsm.read(func(st *state) {
		for i := range jobs {
			// A forwarded answer decodes its missing graphs as null; an
			// older leader's answer may carry them.
			if g := (queueApply{st}).graph(&jobs[i].Job); g != nil {
				jobs[i].Graph = g
			} else if string(jobs[i].Graph) == "null" {
				jobs[i].Graph = nil
			}
		}
	})
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

// claimsInFlight is how many merged claim entries of LAN robots one node
// keeps in flight; submits keep submitsInFlight.
const claimsInFlight = 4

// internetClaimsInFlight is how many merged claim entries of internet
// robots one node keeps in flight, and internetClaimGap the least time
// between the starts of two. An internet robot has few slots and claims
// once per round trip through the gateway, so a node serving many sees
// a steady stream of small claims, and an entry takes those that
// arrived while the entries before it were in flight: with four in
// flight and no gap, the claims of 50 two-slot robots spread over
// entries of about three claims (dispatch bench: 0.12 to 0.22 claim
// entries per job, against 0.02 for one LAN robot with as many slots);
// two in flight a millisecond apart halved that. A lone claim still
// goes at once. LAN robots keep their own batcher: each claims many
// slots at a time, and the three-process end-to-end bench did not show
// them gaining from it.
const (
	internetClaimsInFlight = 2
	internetClaimGap       = time.Millisecond
)

// newClaimBatchers returns the batchers of LAN and of internet robots'
// claims, both committing through apply.
func newClaimBatchers(lifetime context.Context, apply func(context.Context, []ClaimCmd) ([]Part[[]ClaimedJob], error)) (lan, internet *groupCommit[ClaimCmd, []ClaimedJob]) {
	batcher := func(inFlight int, gap time.Duration) *groupCommit[ClaimCmd, []ClaimedJob] {
		return &groupCommit[ClaimCmd, []ClaimedJob]{
			name: "claim", lifetime: lifetime, maxInFlight: inFlight, gap: gap, awaitSent: true,
			weigh: func(c ClaimCmd) (int, int) { return max(c.Max, 1), claimOverhead },
			apply: apply,
		}
	}
	return batcher(claimsInFlight, 0), batcher(internetClaimsInFlight, internetClaimGap)
}

// robotGroups are the node's batchers of robot calls.
type robotGroups struct {
	claims         *groupCommit[ClaimCmd, []ClaimedJob]
	internetClaims *groupCommit[ClaimCmd, []ClaimedJob]
	reports        *groupCommit[reportCall, []Ack]
}

// claimsOf returns the batcher for cmd's robot.
func (g robotGroups) claimsOf(cmd ClaimCmd) *groupCommit[ClaimCmd, []ClaimedJob] {
	if cmd.RobotKind == RobotInternet {
		return g.internetClaims
	}
	return g.claims
}

// reportCall is a robot's heartbeat or completions and when it reached
// this node.
type reportCall struct {
	report  RobotReport
	arrived time.Time
	// barrier carries no report: it sends at once what the node holds
	// and returns when that has committed (see RobotQueue.HandBack).
	barrier bool
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
	lan, internet := newClaimBatchers(lifetime, func(ctx context.Context, claims []ClaimCmd) ([]Part[[]ClaimedJob], error) {
		answer, err := apply[claimAnswer](ctx, s, cmdClaimGroups, ClaimGroupsCmd{Claims: claims, Brief: true})
		if err != nil {
			return nil, err
		}
		return answer.parts(lifetime, s.Replica)
	})
	return robotGroups{
		claims: lan, internetClaims: internet,
		reports: &groupCommit[reportCall, []Ack]{
			name: "robot report", lifetime: lifetime, maxInFlight: 1, gap: progressEvery,
			urgent: func(c reportCall) bool { return c.report.Complete != nil || c.barrier },
			wake:   make(chan struct{}, 1),
			weigh:  weighReport,
			apply: func(ctx context.Context, calls []reportCall) ([]Part[[]Ack], error) {
				return sendReports(ctx, s, calls)
			},
		},
	}
}

// sendReports commits calls in one entry and tells each heartbeat how
// long it was held here. Barriers take no part in the entry; one with
// nothing else to send sends nothing.
func sendReports(ctx context.Context, s *Store, calls []reportCall) ([]Part[[]Ack], error) {
	sent := time.Now()
	reports := make([]RobotReport, 0, len(calls))
	for _, call := range calls {
		if !call.barrier {
			reports = append(reports, call.report)
		}
	}
	out := make([]Part[[]Ack], len(calls))
	if len(reports) == 0 {
		return out, nil
	}
	parts, err := apply[[]Part[[]Ack]](ctx, s, cmdRobotReports, RobotReportsCmd{Reports: reports})
	if err != nil {
		return nil, err
	}
	if len(parts) != len(reports) {
		return nil, fmt.Errorf("robot reports: %d reports answered %d results", len(reports), len(parts))
	}
	k := 0
	for i, call := range calls {
		if call.barrier {
			continue
		}
		out[i] = parts[k]
		k++
		if call.report.Progress == nil {
			continue
		}
		for j := range out[i].Value {
			if out[i].Value[j].OK {
				out[i].Value[j].Waited = sent.Sub(call.arrived)
			}
		}
	}
	return out, nil
}

func (g robotGroups) close() {
	g.claims.close()
	g.internetClaims.close()
	g.reports.close()
}
