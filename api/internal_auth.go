package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// Peer is the node on the other end of an internal request, as its
// mutual-TLS certificate names it.
type Peer struct {
	Name string
	// Server is true when the certificate was issued to a server.
	Server bool
}

// PeerAuth names the peer of an internal request or refuses it. The node
// package checks the TLS client certificate; in-process tests, whose
// internal endpoints share a plain-HTTP test server, pass their own.
type PeerAuth func(*http.Request) (Peer, error)

const peerKey = "casare.peer"

// CodePeerRefused is the error code of an internal request whose peer may
// not make it.
const CodePeerRefused = "peer_refused"

func (s guards) authenticatePeer(c *gin.Context) {
	if s.cfg.PeerAuth == nil {
		s.abort(c, newError(CodePeerRefused, "internal endpoints of node %s accept no peers: it has no cluster identity", s.cfg.NodeName))
		return
	}
	p, err := s.cfg.PeerAuth(c.Request)
	if err != nil {
		s.abort(c, newError(CodePeerRefused, "internal endpoints need a node certificate of this cluster: %v", err))
		return
	}
	c.Set(peerKey, p)
	c.Next()
}

func peerOf(c *gin.Context) Peer {
	p, _ := c.Get(peerKey)
	peer, _ := p.(Peer)
	return peer
}

// serversOnly refuses a robot-only member's certificate: Raft writes,
// joins and membership changes come from servers.
func (s guards) serversOnly(c *gin.Context) {
	if !peerOf(c).Server {
		s.abort(c, newError(CodePeerRefused, "node %q holds a robot-only certificate; this endpoint serves servers", peerOf(c).Name))
		return
	}
	c.Next()
}

// selfOrServer lets only this node itself (the local CLI, which holds
// its certificate) or a server ask it to leave. A server relays an
// admin's POST /api/v1/cluster/members/{name}/leave; it holds the
// cluster CA's key and may remove any server from Raft anyway, so this
// grants it nothing new.
func (s guards) selfOrServer(c *gin.Context) {
	if p := peerOf(c); p.Name != s.cfg.NodeName && !p.Server {
		s.abort(c, newError(CodePeerRefused, "only node %s itself or a server may ask it to leave, not robot-only member %q", s.cfg.NodeName, p.Name))
		return
	}
	c.Next()
}

// checkJoinName refuses a join under a name other than the one the
// joiner's certificate holds: a node joins or rejoins only as itself. A
// follower that checked the joiner relays the join to the leader marked
// as relayed; only servers (which issue certificates themselves) may
// relay.
func (s internalAPI) checkJoinName(c *gin.Context, req consensus.JoinRequest) bool {
	p := peerOf(c)
	relayed := p.Server && c.GetHeader(wire.ForwardedJoinHeader) != ""
	if p.Name != req.Name && !relayed {
		s.abort(c, newError(CodePeerRefused, "node %q may not join under the name %q, which its certificate does not hold", p.Name, req.Name))
		return false
	}
	return true
}

// checkClaimant lets a robot-only member claim only for its own LAN
// robot, never as an internet robot or as another node.
func (s robotQueueAPI) checkClaimant(c *gin.Context, cmd consensus.ClaimCmd) bool {
	p := peerOf(c)
	if p.Server || (cmd.RobotID == p.Name && cmd.RobotKind == consensus.RobotLAN) {
		return true
	}
	s.abort(c, newError(CodePeerRefused, "node %q may claim only as its own LAN robot, not as %s robot %q", p.Name, cmd.RobotKind, cmd.RobotID))
	return false
}

// Internal is the handler of the internal endpoints, served only on the
// cluster port behind mutual TLS; the public handler does not route them.
func (s *Server) Internal() http.Handler { return s.internal }

func (s *Server) internalRoutes() *gin.Engine {
	guard := guards{s}
	robotQueue, cluster, peers := robotQueueAPI{s}, clusterAPI{s}, internalAPI{s}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(guard.recoverPanics)
	e.NoRoute(func(c *gin.Context) {
		s.abort(c, newError(consensus.CodeNotFound, "no endpoint %s %s", c.Request.Method, c.Request.URL.Path))
	})
	internal := e.Group("/internal/v1", guard.authenticatePeer)
	servers := internal.Group("", guard.serversOnly)
	servers.POST("/apply", peers.internalApply)
	servers.POST("/readindex", peers.internalReadIndex)
	servers.POST("/join", peers.internalJoin)
	servers.POST("/remove", peers.internalRemove)
	// The cluster view, for a server that asks its peers whether it is
	// still a member: it holds no API token to ask /api/v1/cluster.
	servers.GET("/cluster", cluster.cluster)
	// A key rotation pushes the new vault key to every server.
	servers.POST("/vault/keys", peers.internalVaultKeys)
	internal.POST("/leave", guard.selfOrServer, peers.internalLeave)
	// Robot-only nodes hold no replica; their robots reach the queue here.
	internal.POST("/robot/claim", robotQueue.robotClaim)
	internal.POST("/robot/progress", robotQueue.robotProgress)
	internal.POST("/robot/complete", robotQueue.robotComplete)
	internal.POST("/robot/handback", robotQueue.robotHandBack)
	internal.POST("/robot/crashed", robotQueue.robotCrashed)
	internal.POST("/robot/wait", robotQueue.robotWait)
	internal.POST("/robot/graph", robotQueue.robotGraph)
	return e
}

// Routes lists the public routes' paths (for tests and tools).
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Path)
	}
	return out
}
