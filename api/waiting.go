package api

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/casare/casare/consensus"
)

// waitingReason says why a queued job has not been claimed, from the
// state this node sees now: pause flags, not_before, the workflow's
// concurrency limit and the robots that are alive. It is computed on
// every read and never stored, so it follows robots coming and going
// without a Raft entry. It returns "" for a job that is not queued.
func (s *Server) waitingReason(j consensus.Job, now time.Time) string {
	if j.State != consensus.JobQueued {
		return ""
	}
	if s.cfg.Store.QueuePaused() {
		return "queue paused (casare queue resume)"
	}
	if reason := s.workflowHold(j); reason != "" {
		return reason
	}
	if now.Before(j.NotBefore) {
		return "not before " + j.NotBefore.UTC().Format(time.RFC3339)
	}
	return robotHold(j, s.fleet())
}

// workflowHold reports a pause or a full concurrency limit of the job's
// workflow.
func (s *Server) workflowHold(j consensus.Job) string {
	wf, found, _ := s.cfg.Store.Workflow(j.WorkflowID)
	switch {
	case !found:
		return fmt.Sprintf("workflow %s no longer exists", j.WorkflowID)
	case wf.Settings.Paused:
		return fmt.Sprintf("workflow %s paused", wf.Name)
	case wf.Settings.MaxConcurrency > 0:
		running, _, _ := s.cfg.Store.Jobs(consensus.JobFilter{
			WorkflowID: j.WorkflowID, State: consensus.JobRunning, Limit: wf.Settings.MaxConcurrency,
		})
		if len(running) >= wf.Settings.MaxConcurrency {
			return fmt.Sprintf("workflow %s is at its max_concurrency (%d running)", wf.Name, len(running))
		}
	}
	return ""
}

// robotHold names what no alive robot offers the job: the pinned robot,
// the pool, the tags, or a free slot.
func robotHold(j consensus.Job, fleet []Robot) string {
	if j.PinnedRobot != "" {
		return pinnedHold(j, fleet)
	}
	var inPool, tagged []Robot
	for _, r := range fleet {
		if !canClaim(r) || !inModePool(j.ExecutionMode, r.Kind) {
			continue
		}
		inPool = append(inPool, r)
		if hasTags(r, j.RobotTags) {
			tagged = append(tagged, r)
		}
	}
	switch {
	case len(inPool) == 0 && j.ExecutionMode == consensus.ModeAny:
		return "no robot alive"
	case len(inPool) == 0:
		return "no robot in pool " + j.ExecutionMode
	case len(tagged) == 0:
		return fmt.Sprintf("no robot with tags %s in pool %s", strings.Join(j.RobotTags, ","), j.ExecutionMode)
	}
	if slices.IndexFunc(tagged, hasRoom) < 0 {
		return fmt.Sprintf("every eligible robot is busy (%d)", len(tagged))
	}
	return ""
}

// pinnedHold says why the one robot a pinned job may run on does not
// take it.
func pinnedHold(j consensus.Job, fleet []Robot) string {
	i := slices.IndexFunc(fleet, func(r Robot) bool { return r.ID == j.PinnedRobot })
	if i < 0 {
		return fmt.Sprintf("no robot named %s", j.PinnedRobot)
	}
	r := fleet[i]
	switch {
	case !canClaim(r):
		return fmt.Sprintf("pinned robot %s is %s", r.ID, r.State)
	case !inModePool(j.ExecutionMode, r.Kind):
		return fmt.Sprintf("pinned robot %s is a %s robot, not in pool %s", r.ID, r.Kind, j.ExecutionMode)
	case !hasTags(r, j.RobotTags):
		return fmt.Sprintf("pinned robot %s lacks tags %s", r.ID, strings.Join(j.RobotTags, ","))
	case !hasRoom(r):
		return fmt.Sprintf("pinned robot %s is busy", r.ID)
	}
	return ""
}

// canClaim reports whether a robot may still ask for work: an alive one,
// or a suspect one, which may only be slow.
func canClaim(r Robot) bool {
	return r.State == RobotAlive || r.State == RobotSuspect
}

// inModePool mirrors the claim rule: a job of mode "any" goes to either
// kind of robot, others only to their own kind.
func inModePool(mode, kind string) bool {
	return mode == consensus.ModeAny || mode == kind
}

func hasTags(r Robot, tags []string) bool {
	for _, t := range tags {
		if !slices.Contains(r.Tags, t) {
			return false
		}
	}
	return true
}

// hasRoom reports whether a robot runs fewer jobs than its capacity. A
// robot that advertises no capacity is taken to have room.
func hasRoom(r Robot) bool {
	return r.Capacity <= 0 || len(r.CurrentJobs) < r.Capacity
}
