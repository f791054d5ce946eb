package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// The remote debugger of a real run: a job submitted with debug options
// stops on its robot before breakpoint nodes; the stop reaches every
// peer's replica through the robot's heartbeats, and commands reach the
// robot in the answers to them (consensus/debug.go, node/robot/debug.go).

// debugOptions reads a job request's debug options.
func debugOptions(field string, req *wire.DebugRequest) (*consensus.DebugOptions, error) {
	if req == nil {
		return nil, nil
	}
	timeout, err := parseDuration(field+".pause_timeout", req.PauseTimeout)
	if err != nil {
		return nil, err
	}
	o := consensus.DebugOptions{Breakpoints: req.Breakpoints, PauseTimeout: consensus.Duration(timeout)}
	if err := o.Check(); err != nil {
		return nil, invalidField(field, "%v", err)
	}
	return &o, nil
}

// getJobDebug shows a debug job's session from this node's replica.
func (s jobsAPI) getJobDebug(c *gin.Context) {
	id := c.Param("id")
	watches, err := watchExpressions(c.QueryArray("watch"))
	if err != nil {
		s.abort(c, err)
		return
	}
	job, _, found := lookup(s.Server, c, "job "+id, func() (consensus.Job, bool, uint64) { return s.cfg.Store.Job(id) })
	if !found {
		return
	}
	if job.JobRun == nil || job.Debug == nil {
		s.abort(c, newError(consensus.CodeNotFound, "job %s is not a debug session (submit it with debug options)", id))
		return
	}
	v := debugView(job)
	if v.Paused != nil && len(watches) > 0 {
		v.Paused.Watches = evalWatches(v.Paused.Variables, watches)
	}
	c.JSON(http.StatusOK, v)
}

// postJobDebug sends continue, step or step_into to a paused debug run.
func (s jobsAPI) postJobDebug(c *gin.Context) {
	var req wire.DebugCommandRequest
	if !s.bindJSON(c, &req) {
		return
	}
	job, err := s.cfg.Store.DebugJob(c.Request.Context(), consensus.DebugJobCmd{
		JobID: c.Param("id"), Action: req.Action, Breakpoints: req.Breakpoints,
	})
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, debugView(job))
}

func debugView(job consensus.Job) wire.DebugState {
	d := job.Debug
	v := wire.DebugState{
		JobID: job.ID, JobState: string(job.State), RobotID: job.RobotID,
		Breakpoints:  append([]string{}, d.Options.Breakpoints...),
		PauseTimeout: time.Duration(d.Options.PauseTimeout).String(),
		Detached:     d.Detached,
	}
	if p := d.Paused; p != nil {
		v.Paused = &wire.DebugStop{
			Stop: p.Stop, Node: p.Node, Reason: p.Reason, Variables: p.Vars, Since: p.Since,
			CallStack: []wire.DebugFrame{},
		}
		for _, f := range p.Stack {
			v.Paused.CallStack = append(v.Paused.CallStack, wire.DebugFrame(f))
		}
	}
	if cmd := d.Command; cmd != nil {
		v.LastCommand = &wire.DebugPending{Seq: cmd.Seq, Stop: cmd.Stop, Action: cmd.Action}
	}
	return v
}
