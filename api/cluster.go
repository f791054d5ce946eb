package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

func (s clusterAPI) cluster(c *gin.Context) {
	servers, err := s.cfg.Store.Servers()
	if err != nil {
		s.abort(c, err)
		return
	}
	members := s.cfg.Members()
	alive := make(map[string]bool, len(members))
	out := Cluster{
		Node: s.cfg.NodeName, Leader: s.leader(), RaftState: s.cfg.Store.RaftState(),
		Servers: make([]ClusterServer, len(servers)), Members: make([]ClusterMember, len(members)),
	}
	for i, m := range members {
		alive[m.Name] = m.State == wire.MemberAlive
		roles := m.Roles
		if roles == nil {
			roles = []string{}
		}
		out.Members[i] = ClusterMember{
			Name: m.Name, State: m.State, Roles: roles, HTTPAddr: m.HTTPAddr, Tags: m.Tags, Capacity: m.Capacity,
		}
	}
	for i, srv := range servers {
		out.Servers[i] = ClusterServer{
			Name: srv.Name, RaftAddr: srv.RaftAddr, HTTPAddr: srv.HTTPAddr,
			Voter: srv.Voter, Alive: alive[srv.Name], Leader: srv.Leader,
		}
	}
	out.NotMember = s.cfg.NotMember != nil && s.cfg.NotMember()
	out.Term, _ = strconv.ParseUint(s.cfg.Store.Stats()["term"], 10, 64)
	out.AppliedIndex = s.cfg.Store.AppliedIndex()
	out.Archive = s.archiveStatus(c.Request.Context())
	setAppliedIndex(c, out.AppliedIndex)
	c.JSON(http.StatusOK, out)
}

// leader names the leader as this node knows it, or nil when it knows
// none. The HTTP address is empty until the leader has registered it.
func (s *Server) leader() *Leader {
	if info, ok := s.cfg.Store.Leader(); ok {
		return &Leader{Name: info.Name, HTTPAddr: info.HTTPAddr}
	}
	if name := s.cfg.Store.LeaderName(); name != "" {
		return &Leader{Name: name}
	}
	return nil
}

// health is the liveness check; with ?ready=1 it is the readiness check.
func (s clusterAPI) health(c *gin.Context) {
	if raw, ok := c.GetQuery("ready"); ok {
		ready, err := strconv.ParseBool(raw)
		if err != nil {
			s.abort(c, invalidField("ready", "must be true or false, not %q", raw))
			return
		}
		if ready {
			s.ready(c)
			return
		}
	}
	c.JSON(http.StatusOK, s.healthReport(c))
}

// ready answers 503 until the node can serve writes and reads: it is the
// leader, or it knows where the leader's API is, it is not catching up
// after a restart, it is inside the Raft configuration (not
// not_member), and it has finished starting.
func (s clusterAPI) ready(c *gin.Context) {
	h := s.healthReport(c)
	if !h.Ready {
		h.Status = "unavailable"
		c.JSON(http.StatusServiceUnavailable, h)
		return
	}
	c.JSON(http.StatusOK, h)
}

func (s clusterAPI) healthReport(c *gin.Context) Health {
	setAppliedIndex(c, s.cfg.Store.AppliedIndex())
	h := Health{Status: "ok", Leader: s.leader(), Node: s.cfg.NodeName, RaftState: s.cfg.Store.RaftState()}
	_, known := s.cfg.Store.Leader()
	h.CatchingUp, _, _ = s.cfg.Store.CatchingUp()
	h.Ready = (known || h.RaftState == "Leader") && !h.CatchingUp
	if s.cfg.NotMember != nil && s.cfg.NotMember() {
		h.Ready, h.NotMember = false, true
	}
	if s.cfg.Starting != nil && s.cfg.Starting() {
		h.Ready, h.Starting = false, true
	}
	return h
}

// removeServer is the operator's way to take a server that is gone for
// good out of the Raft configuration (casare operator remove-server).
// The leader refuses a server that is still alive, and promotes a live
// non-voter first when the removal would leave fewer voters than the
// target; with none to promote, the removal goes ahead: the operator
// has decided.
func (s clusterAPI) removeServer(c *gin.Context) {
	name := c.Param("name")
	resp, err := s.cfg.Store.RemoveServer(c.Request.Context(), consensus.RemoveRequest{Name: name, Operator: true})
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, resp)
}

// askLeave is an admin's way to make a running member (a server or a
// robot-only member) leave the cluster gracefully and stop, as casare
// node leave does on the member's own machine: a server hands its Raft
// seat back, a robot finishes what it runs. This node leaves itself, or
// relays the request over the cluster's mutual TLS to the member named.
func (s clusterAPI) askLeave(c *gin.Context) {
	name := c.Param("name")
	if name == s.cfg.NodeName {
		if s.cfg.OnLeave == nil {
			s.abort(c, newError(CodeUnavailable, "node %s cannot leave through the API", s.cfg.NodeName))
			return
		}
		s.log.Info("asked to leave the cluster", "by", tokenName(c))
		c.JSON(http.StatusAccepted, LeaveResponse{Node: name, Status: "leaving"})
		s.leaveOnce.Do(func() { go s.cfg.OnLeave() })
		return
	}
	var member *Member
	for _, m := range s.cfg.Members() {
		if m.Name == name {
			member = &m
			break
		}
	}
	switch {
	case member == nil:
		s.abort(c, newError(consensus.CodeNotFound, "no member named %q in the cluster", name))
		return
	case member.State != "alive" && member.State != RobotSuspect:
		s.abort(c, newError(consensus.CodeConflict,
			"member %s is %s: only a running member can leave (remove a server that is gone with DELETE /api/v1/cluster/servers/%s)",
			name, member.State, name))
		return
	case s.cfg.AskLeave == nil:
		s.abort(c, newError(CodeUnavailable, "node %s cannot reach other members to ask them to leave", s.cfg.NodeName))
		return
	}
	if err := s.cfg.AskLeave(c.Request.Context(), name); err != nil {
		s.abort(c, newError(CodeUnavailable, "ask member %s to leave: %v", name, err))
		return
	}
	s.log.Info("asked a member to leave the cluster", "member", name, "by", tokenName(c))
	c.JSON(http.StatusAccepted, LeaveResponse{Node: name, Status: "leaving"})
}

// tokenName names the credential of a request, for the log.
func tokenName(c *gin.Context) string {
	if t, ok := principal(c); ok {
		return t.Name
	}
	return ""
}
