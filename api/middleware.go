package api

import (
	"context"
	"fmt"
	"log/slog"
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
func (s guards) recoverPanics(c *gin.Context) {
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
func (s guards) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	elapsed := time.Since(start)
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	status := c.Writer.Status()
	s.metrics.observeRequest(c.Request.Method, route, status, elapsed)
	// The arguments cost even when the line is not written: ClientIP
	// parses the forwarding headers and the values are boxed, on every
	// request (1.3% of the nodes' CPU under single submits).
	if s.log.Enabled(c.Request.Context(), slog.LevelDebug) {
		s.log.Debug("request", "method", c.Request.Method, "route", route, "path", c.Request.URL.Path,
			"status", status, "duration", elapsed, "remote", c.ClientIP())
	}
}

// membersOnly answers 503 not_member while this server is outside the
// Raft configuration: its replica no longer follows the cluster, so its
// data may be stale, and it cannot vouch for anything. The cluster view
// and the API document stay available, so that an operator can see why.
func (s guards) membersOnly(c *gin.Context) {
	if s.cfg.NotMember == nil || !s.cfg.NotMember() {
		return
	}
	switch c.FullPath() {
	case "/api/v1/cluster", "/api/v1/openapi.json":
		return
	}
	s.abort(c, newError(consensus.CodeNotMember,
		"node %s is not in the cluster's Raft configuration (it was removed, probably after a network cut); it is rejoining and serves no data until it has caught up: ask another node",
		s.cfg.NodeName))
}

// consistentReads makes a GET with ?consistent=true wait until this node
// has applied every write acknowledged before the request, so the read
// that follows is linearizable.
func (s guards) consistentReads(c *gin.Context) {
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

// confirmMissTimeout bounds asking the leader about a resource this node
// does not have.
const confirmMissTimeout = 2 * time.Second

// lookup reads one resource by id and answers the request itself when
// the resource is missing. A miss is confirmed first: the node applies
// every write the cluster acknowledged, so that a follower never answers
// 404 for a job or workflow created a moment ago, through it or through
// another node. If the leader cannot be asked, the answer is 503, not a
// 404 the node cannot vouch for. Concurrent misses share one read index
// (rounds.Group). what names the resource in messages.
func lookup[T any](s *Server, c *gin.Context, what string, read func() (T, bool, uint64)) (v T, index uint64, found bool) {
	v, found, index = read()
	if !found && !c.GetBool(consistentKey) {
		err := s.confirms.Wait(c.Request.Context(), confirmMissTimeout, func(ctx context.Context) error {
			_, err := s.cfg.Store.WaitConsistent(ctx)
			return err
		})
		if err != nil {
			setAppliedIndex(c, index)
			s.abort(c, newError(consensus.CodeNoLeader, "%s is not on this node, and the leader could not be asked whether it exists: %v", what, err))
			return v, index, false
		}
		v, found, index = read()
	}
	setAppliedIndex(c, index)
	if !found {
		s.abort(c, newError(consensus.CodeNotFound, "%s not found", what))
	}
	return v, index, found
}

// setAppliedIndex tells the client how fresh a read is.
func setAppliedIndex(c *gin.Context, index uint64) {
	c.Header(appliedIndexHeader, strconv.FormatUint(index, 10))
}
