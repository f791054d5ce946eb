package api

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// Admins drain a robot before maintenance (it finishes what it runs and
// claims nothing more) or make it hand its jobs back at once (they return
// to the queue from their last checkpoint, without spending an attempt,
// and go to other robots). Both are Raft writes, so every node's robot
// runtime sees them through its claims and heartbeats.

// robotAdmin is what the admin endpoints need; *consensus.Store has it.
type robotAdmin interface {
	DrainRobot(ctx context.Context, robotID string, drained bool) error
	RecallJobs(ctx context.Context, robotID, reason string) ([]string, error)
	Drained() []string
}

// annotateFleet adds to each robot what the replicated state says of it
// beyond liveness: whether it is drained, and its last heartbeat.
func (s *Server) annotateFleet(robots []Robot, running map[string]consensus.Holding) {
	var drained []string
	if admin, ok := s.cfg.Store.(robotAdmin); ok {
		drained = admin.Drained()
	}
	for i := range robots {
		r := &robots[i]
		_, r.Drained = slices.BinarySearch(drained, r.ID)
		r.LastHeartbeatAt = running[r.ID].NewestRenewal
	}
}

func (s robotsAPI) drainRobot(c *gin.Context)   { s.setDrained(c, true) }
func (s robotsAPI) undrainRobot(c *gin.Context) { s.setDrained(c, false) }

func (s robotsAPI) setDrained(c *gin.Context, drained bool) {
	admin, id, ok := s.robotToAdmin(c)
	if !ok {
		return
	}
	if err := admin.DrainRobot(c.Request.Context(), id, drained); err != nil {
		s.abort(c, err)
		return
	}
	r, _ := s.robot(id)
	c.JSON(http.StatusOK, r)
}

func (s robotsAPI) handBackRobot(c *gin.Context) {
	admin, id, ok := s.robotToAdmin(c)
	if !ok {
		return
	}
	ids, err := admin.RecallJobs(c.Request.Context(), id, "handed back by an admin")
	if err != nil {
		s.abort(c, err)
		return
	}
	r, _ := s.robot(id)
	c.JSON(http.StatusOK, RobotHandBack{Robot: r, HandedBack: nonNil(ids)})
}

// robotToAdmin finds the robot the path names. A name the fleet does not
// know is refused rather than drained in advance: a typo must not look
// like success.
func (s robotsAPI) robotToAdmin(c *gin.Context) (robotAdmin, string, bool) {
	admin, ok := s.cfg.Store.(robotAdmin)
	if !ok {
		s.abort(c, newError(CodeUnavailable, "this node cannot change robots"))
		return nil, "", false
	}
	id := c.Param("id")
	if _, found := s.robot(id); !found {
		var known []string
		for _, r := range s.fleet() {
			known = append(known, r.ID)
		}
		s.abort(c, newError(consensus.CodeNotFound, "robot %q not found; robots: %s", id, strings.Join(known, ", ")))
		return nil, "", false
	}
	return admin, id, true
}

func (s robotsAPI) robot(id string) (Robot, bool) {
	for _, r := range s.fleet() {
		if r.ID == id {
			return r, true
		}
	}
	return Robot{}, false
}
