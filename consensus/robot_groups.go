package consensus

import (
	"cmp"
	"context"
	"fmt"
	"time"
)

// A node merges what the robots it serves send (its own robot, the
// internet robots on its gateway, the robots of nodes without Raft state
// that call it): the claims of many robots commit together in one entry,
// their heartbeats and completions in another (internet robots' claims
// go with those, robot_work.go), and each robot's part is applied exactly
// as its own entry would be, with its own fencing, and answered on its
// own.

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
// keeps in flight; submits keep submitsInFlight. Internet robots' claims
// go with the reports instead (robot_work.go): an internet robot has few
// slots and claims once per round trip through the gateway, with the
// completions that freed them.
const claimsInFlight = 4

// robotGroups are the node's batchers of robot calls.
type robotGroups struct {
	// claims are LAN robots' claims: each claims many slots at a time.
	claims *groupCommit[ClaimCmd, []ClaimedJob]
	// reports are heartbeats, completions and internet robots' claims.
	reports *groupCommit[reportCall, reportOut]
	// lifetime (the store's) and replica copy an internet robot's
	// claimed jobs once this replica has applied the claim.
	lifetime context.Context
	replica  Replica
}

// claim sends cmd through its robot kind's batcher.
func (g robotGroups) claim(ctx context.Context, cmd ClaimCmd) ([]ClaimedJob, error) {
	if cmd.RobotKind != RobotInternet {
		return g.claims.do(ctx, cmd)
	}
	out, err := g.reports.do(ctx, reportCall{claim: &cmd, arrived: time.Now()})
	if err != nil {
		return nil, err
	}
	return g.claimed(ctx, cmd, out.claim)
}

// work sends an internet robot's completions and claim in one step, so
// that they share an entry, and returns the completions' outcome and the
// claim's.
func (g robotGroups) work(ctx context.Context, done CompleteCmd, cmd ClaimCmd) (acks []Ack, doneErr error, jobs []ClaimedJob, err error) {
	now := time.Now()
	outs, errs := g.reports.doAll(ctx, reportCall{report: RobotReport{Complete: &done}, arrived: now}, reportCall{claim: &cmd, arrived: now})
	if errs[1] == nil {
		jobs, err = g.claimed(ctx, cmd, outs[1].claim)
	}
	return outs[0].acks, errs[0], jobs, cmp.Or(errs[1], err)
}

// claimed copies the jobs of an internet robot's claim from this replica,
// outside the batcher, so that a replica that lags holds up no report.
// A claim whose entry applied after its leader stopped leading has no
// answer; it is sent again, and its request id replays the leases.
func (g robotGroups) claimed(ctx context.Context, cmd ClaimCmd, answer claimAnswer) ([]ClaimedJob, error) {
	parts, err := answer.parts(g.lifetime, g.replica)
	if err != nil {
		return nil, err
	}
	switch p := parts[0]; {
	case p.Error == nil:
		return p.Value, nil
	case p.Error.Code != CodeNotLeader || cmd.RequestID == "":
		// Without a request id a resend would lease more jobs; the
		// robot claims again and the first lease runs out.
		return nil, p.Error
	}
	return g.claims.do(ctx, cmd)
}

// report sends a heartbeat or completions and returns their acks.
func (g robotGroups) report(ctx context.Context, r RobotReport) ([]Ack, error) {
	out, err := g.reports.do(ctx, reportCall{report: r, arrived: time.Now()})
	return out.acks, err
}

// reportCall is a robot's heartbeat, completions or (an internet
// robot's) claim, and when it reached this node.
type reportCall struct {
	report RobotReport
	// claim, when set, is the call instead of report.
	claim   *ClaimCmd
	arrived time.Time
	// barrier carries no report: it sends at once what the node holds
	// and returns when that has committed (see RobotQueue.HandBack).
	barrier bool
}

// reportOut is the outcome of a reportCall: a report's acks or a claim's
// answer (one part), whose jobs robotGroups.claimed copies.
type reportOut struct {
	acks  []Ack
	claim claimAnswer
}

// newRobotGroups makes the batchers over s. Heartbeats go out at most
// once per progressEvery whatever the number of robots: leases are
// renewed once per heartbeat interval anyway, so holding a heartbeat for
// up to one interval costs the robot nothing (its ack says how long it
// waited, see Ack.Waited), and the log gets one entry per interval per
// node instead of one per robot. Completions and claims do not wait: one
// takes the held heartbeats with it. Reports keep one entry in flight,
// so that they commit in the order they came.
func newRobotGroups(lifetime context.Context, s *Store, progressEvery time.Duration) robotGroups {
	return robotGroups{
		lifetime: lifetime, replica: s.Replica,
		claims: &groupCommit[ClaimCmd, []ClaimedJob]{
			name: "claim", lifetime: lifetime, maxInFlight: claimsInFlight,
			awaitSent: func(ClaimCmd) bool { return true },
			weigh:     weighClaim,
			apply: func(ctx context.Context, claims []ClaimCmd) ([]Part[[]ClaimedJob], error) {
				answer, err := apply[claimAnswer](ctx, s, cmdClaimGroups, ClaimGroupsCmd{Claims: claims, Brief: true})
				if err != nil {
					return nil, err
				}
				return answer.parts(lifetime, s.Replica)
			},
		},
		reports: &groupCommit[reportCall, reportOut]{
			name: "robot report", lifetime: lifetime, maxInFlight: 1, gap: progressEvery,
			urgent:    func(c reportCall) bool { return c.report.Complete != nil || c.claim != nil || c.barrier },
			awaitSent: func(c reportCall) bool { return c.claim != nil },
			wake:      make(chan struct{}, 1),
			weigh:     weighReport,
			apply: func(ctx context.Context, calls []reportCall) ([]Part[reportOut], error) {
				return sendReports(ctx, s, calls)
			},
		},
	}
}

// sendReports commits calls in one entry and tells each heartbeat how
// long it was held here. Barriers take no part in the entry; one with
// nothing else to send sends nothing.
func sendReports(ctx context.Context, s *Store, calls []reportCall) ([]Part[reportOut], error) {
	sent := time.Now()
	reports := make([]RobotReport, 0, len(calls))
	var claims []ClaimCmd
	for _, call := range calls {
		switch {
		case call.claim != nil:
			claims = append(claims, *call.claim)
		case !call.barrier:
			reports = append(reports, call.report)
		}
	}
	out := make([]Part[reportOut], len(calls))
	if len(reports) == 0 && len(claims) == 0 {
		return out, nil
	}
	acks, claimed, err := commitReports(ctx, s, reports, claims)
	if err != nil {
		return nil, err
	}
	r, k := 0, 0
	for i, call := range calls {
		switch {
		case call.claim != nil:
			out[i].Value.claim = claimed.part(k)
			k++
		case !call.barrier:
			out[i] = Part[reportOut]{Value: reportOut{acks: acks[r].Value}, Error: acks[r].Error}
			r++
			if call.report.Progress != nil {
				for j := range out[i].Value.acks {
					if out[i].Value.acks[j].OK {
						out[i].Value.acks[j].Waited = sent.Sub(call.arrived)
					}
				}
			}
		}
	}
	return out, nil
}

// commitReports commits reports, with claims if there are any, in one
// entry, and returns a part per report and the claims' answer.
func commitReports(ctx context.Context, s *Store, reports []RobotReport, claims []ClaimCmd) ([]Part[[]Ack], claimAnswer, error) {
	if len(claims) == 0 {
		acks, err := apply[[]Part[[]Ack]](ctx, s, cmdRobotReports, RobotReportsCmd{Reports: reports})
		if err == nil && len(acks) != len(reports) {
			err = fmt.Errorf("robot reports: %d reports answered %d results", len(reports), len(acks))
		}
		return acks, claimAnswer{}, err
	}
	answer, err := apply[robotWorkAnswer](ctx, s, cmdRobotWork, RobotWorkCmd{Reports: reports, Claims: claims, Brief: true})
	if err == nil {
		err = answer.check(len(reports), len(claims))
	}
	return answer.Reports, answer.Claims, err
}

func (g robotGroups) close() {
	g.claims.close()
	g.reports.close()
}
