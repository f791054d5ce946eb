package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// Every /api/v1 route needs a credential with a role, except the routes
// in openRoutes. The role a route needs is in routeRoles, or else follows
// from its method: reads need viewer, writes operator. A route added
// without a thought for its role is therefore never open, and never
// writable by a viewer.

// sessionCookie carries a signed-in browser's session. Browsers cannot
// set an Authorization header on page loads, WebSocket or EventSource,
// so they get a cookie that scripts cannot read (HttpOnly) and other
// sites cannot send (SameSite=Strict).
const sessionCookie = "casare_session"

// principalKey holds the authenticated credential in the gin context.
const principalKey = "casare.principal"

// openRoutes need no credential: the sign-in and sign-out endpoints,
// which a browser calls before it has a session or after it lost it.
var openRoutes = map[string]bool{
	"POST /api/v1/auth/signin":  true,
	"POST /api/v1/auth/signout": true,
}

// routeRoles are the routes whose role is not the default of their
// method: credentials are for admins only, including listing them.
var routeRoles = map[string]consensus.Role{
	"POST /api/v1/tokens":              consensus.RoleAdmin,
	"GET /api/v1/tokens":               consensus.RoleAdmin,
	"DELETE /api/v1/tokens/:id":        consensus.RoleAdmin,
	"POST /api/v1/robots/tokens":       consensus.RoleAdmin,
	"GET /api/v1/robots/tokens":        consensus.RoleAdmin,
	"DELETE /api/v1/robots/tokens/:id": consensus.RoleAdmin,
	// Changing the cluster itself is an admin's.
	"DELETE /api/v1/cluster/servers/:name":     consensus.RoleAdmin,
	"POST /api/v1/cluster/members/:name/leave": consensus.RoleAdmin,
	// A snapshot holds every credential's hash, the vault keys and the
	// CA key; a restore replaces everything.
	"GET /api/v1/operator/snapshot": consensus.RoleAdmin,
	"PUT /api/v1/operator/snapshot": consensus.RoleAdmin,
	// So are the fleet (draining a robot, taking its jobs back) and the
	// vault's secrets, which workflows run with.
	"POST /api/v1/robots/:id/drain":            consensus.RoleAdmin,
	"POST /api/v1/robots/:id/undrain":          consensus.RoleAdmin,
	"POST /api/v1/robots/:id/handback":         consensus.RoleAdmin,
	"PUT /api/v1/secrets/:name":                consensus.RoleAdmin,
	"DELETE /api/v1/secrets/:name":             consensus.RoleAdmin,
	"POST /api/v1/secrets/rotate-key":          consensus.RoleAdmin,
	"POST /api/v1/secrets/:name/oauth-connect": consensus.RoleAdmin,
	"POST /api/v1/auth/codes":                  consensus.RoleViewer,
	"GET /api/v1/auth/whoami":                  consensus.RoleViewer,
	// Validating stores nothing, so whoever may read workflows may check one.
	"POST /api/v1/workflows/validate": consensus.RoleViewer,
}

// RequiredRole returns the role a route (method and gin path template)
// needs, and false for an open route.
func RequiredRole(method, route string) (consensus.Role, bool) {
	key := method + " " + route
	if openRoutes[key] {
		return "", false
	}
	if r, ok := routeRoles[key]; ok {
		return r, true
	}
	if method == http.MethodGet || method == http.MethodHead {
		return consensus.RoleViewer, true
	}
	return consensus.RoleOperator, true
}

// authorize admits a request to an /api/v1 route only with a credential
// whose role allows the route: 401 without a valid credential, 403 with
// one whose role is too weak.
func (s guards) authorize(c *gin.Context) {
	need, guarded := RequiredRole(c.Request.Method, c.FullPath())
	if !guarded {
		return
	}
	s.requireRole(c, need)
}

// requireRole authenticates the request and checks its role.
func (s *Server) requireRole(c *gin.Context, need consensus.Role) {
	p, err := s.authenticate(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	if !p.Role.Allows(need) {
		s.abort(c, newError(CodeForbidden, "role %s of %q may not %s %s: it needs role %s",
			p.Role, p.Name, c.Request.Method, c.Request.URL.Path, need))
		return
	}
	c.Set(principalKey, p)
}

// authenticate finds the request's credential, a bearer token or else a
// session cookie, and checks it against the replicated credentials.
func (s *Server) authenticate(c *gin.Context) (consensus.APIToken, error) {
	kind, raw, err := presented(c.Request)
	if err != nil {
		return consensus.APIToken{}, err
	}
	id, secret, err := consensus.ParseAPIToken(kind, raw)
	if err != nil {
		return consensus.APIToken{}, newError(CodeUnauthenticated, "%v", err)
	}
	t, err := s.cfg.Store.Authenticate(id, secret, time.Now(), kind)
	if errors.Is(err, consensus.ErrUnknownCredential) && !s.behind() && s.leaderKnown() {
		// A credential created a moment ago may be committed but not yet
		// applied here: confirm the miss before refusing it.
		if cerr := s.confirmUnknownCredential(c, kind, id); cerr != nil {
			return t, cerr
		}
		t, err = s.cfg.Store.Authenticate(id, secret, time.Now(), kind)
	}
	switch {
	case err == nil:
		return t, nil
	case errors.Is(err, consensus.ErrUnknownCredential) && s.behind():
		// Checked first: a restarted node replaying its log often knows
		// no leader yet either, and catching_up says why more exactly.
		return t, newError(CodeCatchingUp, "this node restarted and is still replaying its log; it cannot check API %s %s yet: retry in a moment or ask another node", kind, id)
	case errors.Is(err, consensus.ErrUnknownCredential) && !s.leaderKnown():
		// A node that knows no leader may simply not have caught up; it
		// cannot vouch that the credential does not exist.
		return t, newError(consensus.CodeNoLeader, "this node knows no leader and cannot check API %s %s; try another node", kind, id)
	case errors.Is(err, consensus.ErrUnknownCredential):
		return t, newError(CodeUnauthenticated, "unknown API %s: this cluster has no %s with id %s and that secret", kind, kind, id)
	default:
		return t, newError(CodeUnauthenticated, "%v", err)
	}
}

// credentialConfirmTimeout bounds how long a request with a credential
// this node does not know waits for the leader's read index to apply.
// The leader answers within a heartbeat round, and a follower applies a
// fresh commit within milliseconds, so a second means the node cannot
// catch up now.
const credentialConfirmTimeout = time.Second

// confirmUnknownCredential waits until this node has applied every write
// the cluster acknowledged (the leader's read index), as lookup does
// before a 404: a token created through another node a moment ago then
// checks here, and one that still does not is truly unknown. If the
// node cannot get there in time the answer is catching_up with
// Retry-After, never a 401 the node cannot vouch for. Only a credential
// that parses reaches here, so garbage costs no round trip, and
// concurrent confirmations share one (rounds.Group), so made-up tokens
// cannot make a node ask the leader once per request.
func (s *Server) confirmUnknownCredential(c *gin.Context, kind consensus.CredentialKind, id string) error {
	err := s.confirms.Wait(c.Request.Context(), credentialConfirmTimeout, func(ctx context.Context) error {
		_, err := s.cfg.Store.WaitConsistent(ctx)
		return err
	})
	if err != nil {
		return newError(CodeCatchingUp, "this node has not applied the cluster's newest writes and cannot check API %s %s yet (%v): retry in a moment or ask another node", kind, id, err)
	}
	return nil
}

func (s *Server) behind() bool {
	behind, _, _ := s.cfg.Store.CatchingUp()
	return behind
}

// leaderKnown tells whether the cluster has a leader this node can ask
// for a read index. Right after an election the leader is this node but
// has not registered its addresses yet (Store.Leader); readiness counts
// it as known, and so must the credential check, or the first request
// after /health/ready says ready gets "knows no leader".
func (s *Server) leaderKnown() bool {
	_, ok := s.cfg.Store.Leader()
	return ok || s.cfg.Store.RaftState() == "Leader"
}

// presented returns the credential a request carries and its kind.
func presented(r *http.Request) (consensus.CredentialKind, string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return "", "", newError(CodeUnauthenticated, "Authorization header is not \"Bearer <token>\"")
		}
		return consensus.KindToken, strings.TrimSpace(token), nil
	}
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		return consensus.KindSession, ck.Value, nil
	}
	return "", "", newError(CodeUnauthenticated,
		"no credential: send \"Authorization: Bearer <token>\" (casare tokens create makes one), or sign in at /signin")
}

// principal returns the credential authorize admitted the request with.
func principal(c *gin.Context) (consensus.APIToken, bool) {
	v, ok := c.Get(principalKey)
	if !ok {
		return consensus.APIToken{}, false
	}
	t, ok := v.(consensus.APIToken)
	return t, ok
}

// guardMetrics lets only viewers read /metrics, unless the node was
// started with the metrics public (for a scraper on a trusted network).
func (s guards) guardMetrics(c *gin.Context) {
	if s.cfg.MetricsPublic {
		return
	}
	s.requireRole(c, consensus.RoleViewer)
}

// cors answers cross-origin requests from the one origin the node was
// told to trust; without one, browsers keep other sites' scripts away
// from the API, which is the default.
func (s guards) cors(c *gin.Context) {
	origin := c.GetHeader("Origin")
	if s.cfg.CORSOrigin == "" || origin == "" {
		return
	}
	c.Header("Vary", "Origin")
	if origin != s.cfg.CORSOrigin {
		return
	}
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key")
	h.Set("Access-Control-Expose-Headers", appliedIndexHeader)
	// Browsers may cache the preflight this long (10 minutes), so that a
	// page does not pay for two round trips per call.
	h.Set("Access-Control-Max-Age", "600")
	if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
		c.AbortWithStatus(http.StatusNoContent)
	}
}
