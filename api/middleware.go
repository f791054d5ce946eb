package api

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// appliedIndexHeader carries the Raft index a read saw.
const appliedIndexHeader = "X-Casare-Applied-Index"

// recoverPanics turns a handler panic into a 500 so one bad request
// cannot take the node down.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v) // the client went away; net/http handles it
			}
			s.log.Error("handler panicked", "method", c.Request.Method, "path", c.Request.URL.Path, "panic", v)
			s.abort(c, newError(consensus.CodeInternal, "internal error: %v", v))
		}
	}()
	c.Next()
}

// observe records each request in the metrics and the debug log. The
// route template, not the raw path, labels the metrics so that ids do not
// explode their cardinality.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.metrics.observeRequest(c.Request.Method, route, status, elapsed)
	s.log.Debug("request", "method", c.Request.Method, "route", route, "path", c.Request.URL.Path,
		"status", status, "duration", elapsed, "remote", c.ClientIP())
}

// consistentReads makes a GET with ?consistent=true wait until this node
// has applied every write acknowledged before the request, so the read
// that follows is linearizable.
func (s *Server) consistentReads(c *gin.Context) {
	if c.Request.Method != http.MethodGet {
		return
	}
	raw, ok := c.GetQuery("consistent")
	if !ok {
		return
	}
	consistent, err := strconv.ParseBool(raw)
	if err != nil {
		s.abort(c, invalidField("consistent", "must be true or false, not %q", raw))
		return
	}
	if !consistent {
		return
	}
	if _, err := s.cfg.Store.WaitConsistent(c.Request.Context()); err != nil {
		s.abort(c, fmt.Errorf("consistent read: %w", err))
		return
	}
	c.Set(consistentKey, true)
}

// consistentKey marks a request whose reads are already linearizable.
const consistentKey = "casare.consistent"

// lookup reads one resource by id. A miss is confirmed before it is
// answered: the node first applies every write the cluster acknowledged,
// so that a follower never answers 404 for a job or workflow that was
// created a moment ago, through it or through another node. If the
// leader cannot be reached, the local answer stands.
func lookup[T any](s *Server, c *gin.Context, read func() (T, bool, uint64)) (v T, found bool, index uint64) {
	v, found, index = read()
	if !found && !c.GetBool(consistentKey) {
		if _, err := s.cfg.Store.WaitConsistent(c.Request.Context()); err == nil {
			v, found, index = read()
		}
	}
	setAppliedIndex(c, index)
	return v, found, index
}

// setAppliedIndex tells the client how fresh a read is.
func setAppliedIndex(c *gin.Context, index uint64) {
	c.Header(appliedIndexHeader, strconv.FormatUint(index, 10))
}
