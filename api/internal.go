package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// The internal endpoints carry node-to-node traffic: followers forward
// writes and read-index requests to the leader here, and joining nodes
// ask any member to add them.

// internalBodyLimit bounds a forwarded command. A command can hold a
// whole uploaded workflow, which its JSON encoding inflates by a third.
func (s *Server) internalBodyLimit() int64 { return 2 * s.cfg.MaxUploadBytes }

func (s internalAPI) internalApply(c *gin.Context) {
	buf, err := readBody(c, s.internalBodyLimit())
	if err != nil {
		s.abort(c, err)
		return
	}
	result, err := s.cfg.Store.ApplyRaw(c.Request.Context(), buf)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", result)
}

// internalReadIndex answers only on the leader. A node that is not the
// leader says so, and the asking follower retries with its refreshed
// view, instead of the request hopping on through stale views.
func (s internalAPI) internalReadIndex(c *gin.Context) {
	if state := s.cfg.Store.RaftState(); state != "Leader" {
		s.abort(c, newError(consensus.CodeNotLeader, "node %s is not the leader (it is %s)", s.cfg.NodeName, state))
		return
	}
	index, err := s.cfg.Store.ReadIndex(c.Request.Context())
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, ReadIndexResponse{Index: index})
}

func (s internalAPI) internalJoin(c *gin.Context) {
	var req consensus.JoinRequest
	if !s.bindJSON(c, &req) || !s.checkJoinName(c, req) {
		return
	}
	if v := c.Query("log_format"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			s.abort(c, invalidField("log_format", "is %q; give a whole number of at least 0", v))
			return
		}
		req.LogFormat = n
	}
	resp, err := s.cfg.Store.Join(c.Request.Context(), req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}

func (s internalAPI) internalRemove(c *gin.Context) {
	var req consensus.RemoveRequest
	if !s.bindJSON(c, &req) {
		return
	}
	if req.Name == "" {
		s.abort(c, missingFields("name"))
		return
	}
	resp, err := s.cfg.Store.RemoveServer(c.Request.Context(), req)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}

// internalLeave starts a graceful leave. The leave shuts this server
// down, so it runs after the answer, on its own goroutine, and at most
// once.
func (s internalAPI) internalLeave(c *gin.Context) {
	if s.cfg.OnLeave == nil {
		s.abort(c, newError(CodeUnavailable, "node %s cannot leave through the API", s.cfg.NodeName))
		return
	}
	c.JSON(http.StatusAccepted, LeaveResponse{Node: s.cfg.NodeName, Status: "leaving"})
	s.leaveOnce.Do(func() { go s.cfg.OnLeave() })
}
