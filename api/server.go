package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/rounds"
	"github.com/casare/casare/web"
)

// Member is one gossip member as the node package sees it.
type Member struct {
	Name     string
	State    string // alive, suspect, dead or left
	Roles    []string
	HTTPAddr string
	Tags     []string
	Capacity int
	// Since is when this node saw the member enter State.
	Since time.Time
}

// Config says how to build a Server.
type Config struct {
	Store Store
	// Archive is the Postgres archive; nil without one.
	Archive Archive
	// Members returns the gossip view of the cluster; nil means none.
	Members func() []Member
	// OnLeave starts this node's graceful leave. It runs on its own
	// goroutine, after the leave request has been answered.
	OnLeave func()
	// AskLeave asks the member named (not this node) to leave the
	// cluster gracefully, over the cluster's internal endpoints; nil
	// means this node cannot.
	AskLeave func(ctx context.Context, name string) error
	// NotMember reports whether this server is outside the Raft
	// configuration (removed, and not yet rejoined and caught up); while
	// it is, data endpoints answer 503 not_member and the node is not
	// ready. nil means always a member.
	NotMember func() bool
	// Starting reports whether the node is still starting (the server
	// that bootstrapped the cluster storing the admin token of its data
	// dir); while it is, the node is not ready. nil means started.
	Starting func() bool
	NodeName string
	Logger   *slog.Logger
	// CAFingerprint is the cluster CA's fingerprint (pki.Fingerprint),
	// appended to every robot token so robots can verify the nodes they
	// dial. Empty leaves it off, and robots refuse such tokens.
	CAFingerprint string
	// MaxBodyBytes limits JSON request bodies (default 1 MiB).
	MaxBodyBytes int64
	// MaxUploadBytes limits workflow file uploads (default 8 MiB).
	MaxUploadBytes int64
	// MaxSnapshotBytes limits a snapshot file sent for a restore
	// (default DefaultMaxSnapshotBytes).
	MaxSnapshotBytes int64
	// ClusterCA returns the cluster CA (PEM certificate and key) for
	// snapshots; nil leaves it out of them.
	ClusterCA func() (cert, key []byte, err error)
	// MaxLogFollowers caps the log streams (GET …/logs?follow=true) this
	// node serves at once (default DefaultMaxLogFollowers); one more is
	// refused with 503 too_many_streams.
	MaxLogFollowers int
	// RobotSuspectAfter is how long a robot may hold jobs without a
	// heartbeat before it is listed as suspect (default 3 s: three missed
	// one-second heartbeats).
	RobotSuspectAfter time.Duration
	// MetricsPublic serves /metrics without a credential, for a scraper
	// on a trusted network; by default it needs a viewer token.
	MetricsPublic bool
	// CORSOrigin is the one origin (scheme://host[:port]) whose pages
	// may call the API from a browser; empty allows none.
	CORSOrigin string
	// PeerAuth names the node behind an internal request (see Internal);
	// nil refuses every internal request.
	PeerAuth PeerAuth
	// EventBuffer is how many events the node keeps for clients that
	// resume the event stream (default DefaultEventBuffer).
	EventBuffer int
	// EventWriteTimeout bounds one write to an event stream client; a
	// connection stalled longer is closed (default 10 s).
	EventWriteTimeout time.Duration
}

// Default body limits.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxUploadBytes = 8 << 20
	// DefaultMaxLogFollowers: each follower is a goroutine that re-reads
	// its job up to 20 times a second while the cluster applies entries;
	// 256 of them cost a few thousand job reads a second, which a node
	// bears beside its real work.
	DefaultMaxLogFollowers = 256
	// DefaultRobotSuspectAfter is Config.RobotSuspectAfter's default.
	DefaultRobotSuspectAfter = 3 * time.Second
)

// Server is the HTTP handler of one node.
type Server struct {
	cfg       Config
	log       *slog.Logger
	engine    *gin.Engine
	internal  *gin.Engine
	metrics   *metrics
	leaveOnce sync.Once
	// followers holds one token per log stream being served.
	followers chan struct{}
	events    *eventFeed // nil when the store cannot be observed
	watcher   fleetWatcher
	oauth     oauthFlows // OAuth connect flows waiting for consent
	// confirms shares the read-index waits that confirm a miss.
	confirms rounds.Group
}

// New builds the handler. It registers its own Prometheus registry, so
// several servers can live in one process.
func New(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxUploadBytes <= 0 {
		cfg.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if cfg.Members == nil {
		cfg.Members = func() []Member { return nil }
	}
	if cfg.RobotSuspectAfter <= 0 {
		cfg.RobotSuspectAfter = DefaultRobotSuspectAfter
	}
	if cfg.MaxSnapshotBytes <= 0 {
		cfg.MaxSnapshotBytes = DefaultMaxSnapshotBytes
	}
	if cfg.MaxLogFollowers <= 0 {
		cfg.MaxLogFollowers = DefaultMaxLogFollowers
	}
	// Gin has no per-engine mode; without release mode it prints every
	// route at startup. The setting is atomic and the same for everyone.
	gin.SetMode(gin.ReleaseMode)
	s := &Server{cfg: cfg, log: cfg.Logger.With("part", "api"), followers: make(chan struct{}, cfg.MaxLogFollowers)}
	s.metrics = newMetrics(cfg.Store)
	if cfg.Archive != nil && cfg.Store != nil {
		s.metrics.registry.MustRegister(archiveCollector{s})
	}
	s.events = newEventFeed(cfg.Store, cfg.EventBuffer, s.metrics.registry)
	if cfg.Store != nil {
		s.metrics.registry.MustRegister(fleetCollector{s.fleet})
	}
	s.watcher.watch = eventsAPI{s}.watchFleet
	s.engine = s.routes()
	s.internal = s.internalRoutes()
	return s
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.engine.ServeHTTP(w, r)
}

// Route is one registered endpoint: a method and gin's path template.
type Route struct{ Method, Path string }

// Endpoints lists every public endpoint with its method, for tests that
// must cover all of them.
func (s *Server) Endpoints() []Route {
	var out []Route
	for _, r := range s.engine.Routes() {
		out = append(out, Route{Method: r.Method, Path: r.Path})
	}
	return out
}

// routes registers every endpoint. The OpenAPI document lists exactly
// these; a test keeps the two in step.
func (s *Server) routes() *gin.Engine {
	guard := guards{s}
	jobs, workflows, schedules := jobsAPI{s}, workflowsAPI{s}, schedulesAPI{s}
	robots, cluster, access, events := robotsAPI{s}, clusterAPI{s}, accessAPI{s}, eventsAPI{s}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.Use(guard.recoverPanics, guard.observe, guard.cors)
	app := web.NewHandler()
	e.NoRoute(func(c *gin.Context) {
		if web.Serves(c.Request) { // the web app's pages and files
			app.ServeHTTP(c.Writer, c.Request)
			return
		}
		s.abort(c, newError(consensus.CodeNotFound, "no endpoint %s %s", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		s.abort(c, newError(CodeMethodNotAllowed, "method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})

	e.GET("/health", cluster.health)
	e.GET("/health/ready", cluster.ready)
	e.GET("/metrics", guard.guardMetrics, gin.WrapH(s.metrics.handler()))

	// authorize runs before anything else an /api/v1 route does, so an
	// unauthenticated request costs no read barrier or body decoding.
	v1 := e.Group("/api/v1", guard.authorize, guard.membersOnly, guard.catchingUp, guard.consistentReads)
	v1.POST("/auth/signin", access.signIn)
	v1.POST("/auth/signout", access.signOut)
	v1.GET("/auth/whoami", access.whoAmI)
	v1.POST("/auth/codes", access.createSignInCode)
	v1.POST("/tokens", access.createAPIToken)
	v1.GET("/tokens", access.listAPITokens)
	v1.DELETE("/tokens/:id", access.revokeAPIToken)
	v1.GET("/openapi.json", serveOpenAPI)
	v1.POST("/workflows", workflows.createWorkflow)
	v1.POST("/workflows/upload", workflows.uploadWorkflow)
	v1.POST("/workflows/validate", workflows.validateWorkflow)
	v1.GET("/node-types", workflows.nodeTypes)
	v1.GET("/workflows", workflows.listWorkflows)
	v1.GET("/workflows/:id", workflows.getWorkflow)
	v1.GET("/workflows/:id/versions", workflows.listWorkflowVersions)
	v1.DELETE("/workflows/:id", workflows.deleteWorkflow)
	v1.POST("/jobs", jobs.submitJob)
	v1.POST("/jobs/batch", jobs.submitJobBatch)
	v1.GET("/jobs", jobs.listJobs)
	v1.GET("/jobs/:id", jobs.getJob)
	v1.POST("/jobs/:id/cancel", jobs.cancelJob)
	v1.POST("/jobs/:id/rerun", jobs.rerunJob)
	v1.GET("/jobs/:id/debug", jobs.getJobDebug)
	v1.POST("/jobs/:id/debug", jobs.postJobDebug)
	v1.GET("/jobs/:id/logs", jobs.jobLogs)
	v1.GET("/queue", workflows.queueStats)
	v1.POST("/queue/pause", workflows.pauseQueue)
	v1.POST("/queue/resume", workflows.resumeQueue)
	v1.POST("/workflows/:id/pause", workflows.pauseWorkflow)
	v1.POST("/workflows/:id/resume", workflows.resumeWorkflow)
	v1.PUT("/workflows/:id/settings", workflows.setWorkflowSettings)
	v1.GET("/robots", robots.listRobots)
	v1.POST("/robots/tokens", robots.createRobotToken)
	v1.GET("/robots/tokens", robots.listRobotTokens)
	v1.DELETE("/robots/tokens/:id", robots.revokeRobotToken)
	v1.POST("/schedules", schedules.createSchedule)
	v1.GET("/schedules", schedules.listSchedules)
	v1.GET("/schedules/:id", schedules.getSchedule)
	v1.PUT("/schedules/:id/enable", schedules.enableSchedule)
	v1.PUT("/schedules/:id/disable", schedules.disableSchedule)
	v1.PUT("/schedules/:id/trigger", schedules.triggerSchedule)
	v1.DELETE("/schedules/:id", schedules.deleteSchedule)
	v1.GET("/cluster", cluster.cluster)
	v1.GET("/stats", cluster.stats)
	v1.GET("/stats/throughput", cluster.throughputStats)
	v1.POST("/cluster/members/:name/leave", cluster.askLeave)
	v1.DELETE("/cluster/servers/:name", cluster.removeServer)
	v1.GET("/events", events.streamEvents)
	v1.POST("/robots/:id/drain", robots.drainRobot)
	v1.POST("/robots/:id/undrain", robots.undrainRobot)
	v1.POST("/robots/:id/handback", robots.handBackRobot)
	v1.GET("/schedules/preview", schedules.previewSchedule)
	s.vaultRoutes(e, v1)
	s.snapshotRoutes(v1)

	return e
}
