package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// The robot endpoints serve robots of robot-only nodes, which hold no
// replica of their own: they claim, report and wait for work through a
// server's API.

const (
	// maxClaim bounds the jobs one claim may take.
	maxClaim = 100
	// maxReportItems bounds one progress or completion batch.
	maxReportItems = consensus.MaxListLimit
	// maxRobotWait bounds a long poll for work; longer requests wait this
	// long.
	maxRobotWait = 30 * time.Second
)

func (s robotQueueAPI) robotClaim(c *gin.Context) {
	var cmd consensus.ClaimCmd
	if !s.bindPeerJSON(c, &cmd) {
		return
	}
	if err := checkClaim(cmd); err != nil {
		s.abort(c, err)
		return
	}
	if !s.checkClaimant(c, cmd) {
		return
	}
	have, err := heldGraphs(c.QueryArray("have"))
	if err != nil {
		s.abort(c, err)
		return
	}
	jobs, err := s.cfg.Store.Claim(c.Request.Context(), cmd)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, nonNil(consensus.OmitHeldGraphs(jobs, have)))
}

// maxHeldGraphs bounds the graphs one claim may say its robot holds.
const maxHeldGraphs = 256

// heldGraphs reads the claim's ?have=<workflow id>@<version> parameters:
// the graphs the robot holds, which the answer leaves out. They are in
// the query, not the body, so that a server that predates them ignores
// them (the body is decoded strictly) and sends every graph.
func heldGraphs(params []string) ([]consensus.GraphRef, error) {
	if len(params) > maxHeldGraphs {
		return nil, invalidField("have", "lists %d graphs; at most %d", len(params), maxHeldGraphs)
	}
	var out []consensus.GraphRef
	for _, p := range params {
		ref, err := consensus.ParseGraphRef(p)
		if err != nil {
			return nil, invalidField("have", "%v", err)
		}
		out = append(out, ref)
	}
	return out, nil
}

// robotGraph serves a workflow version's graph to a robot that lacks
// one its claim left out. Its claim was leased on the leader, so a
// replica that does not know the version yet catches up first.
func (s robotQueueAPI) robotGraph(c *gin.Context) {
	var ref consensus.GraphRef
	if !s.bindJSON(c, &ref) {
		return
	}
	graph, ok := s.cfg.Store.VersionGraph(ref)
	if !ok {
		if _, err := s.cfg.Store.WaitConsistent(c.Request.Context()); err != nil {
			s.abort(c, err)
			return
		}
		graph, ok = s.cfg.Store.VersionGraph(ref)
	}
	if !ok {
		s.abort(c, newError(consensus.CodeNotFound, "no workflow version %s", ref))
		return
	}
	c.JSON(http.StatusOK, RobotGraphResponse{Graph: graph})
}

func checkClaim(cmd consensus.ClaimCmd) error {
	switch {
	case cmd.RobotID == "":
		return missingFields("robot_id")
	case cmd.RobotKind != consensus.RobotLAN && cmd.RobotKind != consensus.RobotInternet:
		return invalidField("robot_kind", "must be lan or internet, not %q", cmd.RobotKind)
	case cmd.Max < 1 || cmd.Max > maxClaim:
		return invalidField("max", "must be from 1 to %d, not %d", maxClaim, cmd.Max)
	}
	if err := checkName("robot_id", cmd.RobotID); err != nil {
		return err
	}
	return checkNames("tags", cmd.Tags)
}

func (s robotQueueAPI) robotProgress(c *gin.Context) {
	serveReport(s.Server, c, func(cmd consensus.ProgressCmd) (string, []string) {
		return cmd.RobotID, jobIDs(cmd.Items, func(p consensus.Progress) string { return p.JobID })
	}, func(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
		if err := numberLogs(c, cmd.Items, setProgressLogsEnd); err != nil {
			return nil, err
		}
		return s.cfg.Store.Progress(ctx, cmd)
	})
}

func (s robotQueueAPI) robotHandBack(c *gin.Context) {
	serveReport(s.Server, c, func(cmd consensus.HandBackCmd) (string, []string) {
		return cmd.RobotID, jobIDs(cmd.Items, func(p consensus.Progress) string { return p.JobID })
	}, func(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
		if err := numberLogs(c, cmd.Items, setProgressLogsEnd); err != nil {
			return nil, err
		}
		return s.cfg.Store.HandBack(ctx, cmd)
	})
}

// robotCrashed takes a robot's report of the runs its previous process
// died in.
func (s robotQueueAPI) robotCrashed(c *gin.Context) {
	serveReport(s.Server, c, func(cmd consensus.CrashCmd) (string, []string) {
		return cmd.RobotID, jobIDs(cmd.Items, func(cr consensus.Crash) string { return cr.JobID })
	}, s.cfg.Store.ReportCrash)
}

func (s robotQueueAPI) robotComplete(c *gin.Context) {
	serveReport(s.Server, c, func(cmd consensus.CompleteCmd) (string, []string) {
		return cmd.RobotID, jobIDs(cmd.Items, func(d consensus.Completion) string { return d.JobID })
	}, func(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
		if err := numberLogs(c, cmd.Items, func(d *consensus.Completion, end int) { d.LogsEnd = end }); err != nil {
			return nil, err
		}
		return s.cfg.Store.Complete(ctx, cmd)
	})
}

func setProgressLogsEnd(p *consensus.Progress, end int) { p.LogsEnd = end }

// numberLogs sets each item's logs_end (consensus.Progress.LogsEnd) from
// the query's logs_end parameters, one per item in the items' order. A
// robot-only node sends them in the query, not the body, so that a
// server that predates them ignores them (the body is decoded strictly)
// and records every line, as it did.
func numberLogs[T any](c *gin.Context, items []T, set func(*T, int)) error {
	params := c.QueryArray("logs_end")
	if len(params) == 0 {
		return nil
	}
	if len(params) != len(items) {
		return invalidField("logs_end", "has %d numbers for %d items; give one per item, 0 for an item not numbered", len(params), len(items))
	}
	for i, p := range params {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return invalidField("logs_end", "must be counts of log lines, not %q", p)
		}
		set(&items[i], n)
	}
	return nil
}

// serveReport decodes a robot's batch of reports, checks its envelope
// and hands it to the store, answering with one ack per item.
func serveReport[C any](s *Server, c *gin.Context, envelope func(C) (robot string, jobs []string),
	apply func(context.Context, C) ([]consensus.Ack, error)) {
	var cmd C
	if !s.bindPeerJSON(c, &cmd) {
		return
	}
	if err := checkReport(envelope(cmd)); err != nil {
		s.abort(c, err)
		return
	}
	acks, err := apply(c.Request.Context(), cmd)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, nonNil(acks))
}

func jobIDs[T any](items []T, id func(T) string) []string {
	ids := make([]string, len(items))
	for i, item := range items {
		ids[i] = id(item)
	}
	return ids
}

// checkReport checks the envelope of a progress or completion batch. The
// leases themselves are judged by the store, item by item, in its acks.
func checkReport(robotID string, jobIDs []string) error {
	switch {
	case robotID == "":
		return missingFields("robot_id")
	case len(jobIDs) == 0:
		return invalidField("items", "is empty; report at least one job")
	case len(jobIDs) > maxReportItems:
		return invalidField("items", "has %d entries; a batch holds at most %d", len(jobIDs), maxReportItems)
	}
	for i, id := range jobIDs {
		if id == "" {
			return missingFields(fmt.Sprintf("items[%d].job_id", i))
		}
	}
	return nil
}

// robotWait long-polls until a claim by the robot could find a job, so
// that idle robots ask the leader for work only when there is some.
func (s robotQueueAPI) robotWait(c *gin.Context) {
	var req RobotWaitRequest
	if !s.bindJSON(c, &req) {
		return
	}
	if err := checkClaim(req.ClaimCmd); err != nil {
		s.abort(c, err)
		return
	}
	if req.TimeoutMS < 0 {
		s.abort(c, invalidField("timeout_ms", "must not be negative, not %d", req.TimeoutMS))
		return
	}
	timeout := min(time.Duration(req.TimeoutMS)*time.Millisecond, maxRobotWait)
	ctx, cancel := context.WithTimeout(c.Request.Context(), timeout)
	defer cancel()
	work, err := s.waitClaimable(ctx, req.ClaimCmd)
	if c.Request.Context().Err() != nil {
		return // the robot is gone; nobody reads an answer
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, RobotWaitResponse{Work: work})
}

// leaderlessCheck is how often a held wait looks whether its node has
// lost the cluster.
const leaderlessCheck = time.Second

// waitClaimable waits until a claim by cmd's robot may find a job, or
// ctx ends (no work, no error). A node that has known no leader for
// consensus.LeaderlessDismiss answers no_leader instead: robots reach it
// but the other servers may not (a partial partition), and its replica
// shows no new work while another server could hand the robot jobs.
func (s robotQueueAPI) waitClaimable(ctx context.Context, cmd consensus.ClaimCmd) (bool, error) {
	for {
		if err := consensus.LeftLeaderless(s.cfg.Store.LeaderlessFor()); err != nil {
			return false, err
		}
		slice, cancel := context.WithTimeout(ctx, leaderlessCheck)
		err := s.cfg.Store.WaitClaimable(slice, cmd)
		cancel()
		if err == nil {
			return true, nil
		}
		if ctx.Err() != nil {
			return false, nil
		}
	}
}
