package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
)

// ServerConfig configures the node side of the tunnel.
type ServerConfig struct {
	// TLSCert is the node's certificate from the cluster CA, with the CA
	// certificate after the leaf: robots verify the chain against the CA
	// fingerprint in their token. Required.
	TLSCert tls.Certificate

	// TokenHash returns sha256 of the secret of the token with the given
	// id (see HashSecret), or false if there is no such token. It must
	// not block. Required.
	TokenHash func(tokenID string) (hash []byte, ok bool)

	// CatchUp, if set, is called before a token is refused, whether its
	// id was unknown or its secret wrong (so a stranger cannot tell the
	// two apart by timing), to bring the node's view of the tokens up to
	// date; the token is then looked up once more. It bounds its wait by
	// ctx.
	CatchUp func(ctx context.Context) error

	// Authenticate is called once a robot proved it holds a valid token. It
	// checks what the tunnel cannot (revocation, the name the token is bound
	// to) and returns the robot's Identity; an error refuses the robot and
	// its text is sent to it. The tunnel sets Identity.TokenID and
	// Identity.RemoteAddr itself. ctx ends with the handshake timeout.
	// Required.
	Authenticate func(ctx context.Context, hello Hello) (Identity, error)

	// Handler serves calls from robots; IdentityFrom(ctx) says which robot
	// is calling. If nil, calls fail with CodeNoHandler.
	Handler Handler

	// OnConnect is called for each authenticated robot before its Dial
	// returns and before any of its calls is served, so it can register
	// the robot first. It counts against HandshakeTimeout; keep it short.
	OnConnect func(*Conn)
	// OnDisconnect is called once a robot's connection has closed and all
	// its calls have returned, with the reason it closed.
	OnDisconnect func(c *Conn, err error)

	// MaxFrameBytes bounds one request or response; 1 MiB if zero.
	MaxFrameBytes int
	// KeepAlive is how often an idle connection is pinged; 5 s if zero.
	KeepAlive time.Duration
	// IdleTimeout closes a connection that has heard nothing from its peer
	// for this long; 15 s if zero, so a vanished robot is noticed well
	// within a 30 s lease.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the token handshake; 10 s if zero.
	HandshakeTimeout time.Duration

	// Logger receives connection and refusal events; slog.Default if nil.
	Logger *slog.Logger

	// oneCallPerStream makes the node behave as one that predates call
	// streams: it offers none and serves a stream's first frame as its
	// only call. Tests set it to stand in for an older node.
	oneCallPerStream bool
}

// Server accepts robot connections on a node's UDP port.
type Server struct {
	cfg       ServerConfig
	logger    *slog.Logger
	udp       *net.UDPConn
	transport *quic.Transport
	listener  *quic.Listener

	// ctx ends when the server starts shutting down; handshakes in
	// progress and the accept loop stop with it.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	closing bool
	serving bool
	conns   map[*Conn]struct{}
	workers sync.WaitGroup // one per accepted connection, until it is gone

	shutdownOnce sync.Once
	shutdownErr  error
}

// Listen opens the node's QUIC port on the UDP address addr (for example
// "127.0.0.1:7301" or ":0"). Robots are accepted once Serve runs.
func Listen(addr string, cfg ServerConfig) (*Server, error) {
	if len(cfg.TLSCert.Certificate) == 0 {
		return nil, fmt.Errorf("tunnel: listen %s: ServerConfig.TLSCert is empty", addr)
	}
	if cfg.TokenHash == nil || cfg.Authenticate == nil {
		return nil, fmt.Errorf("tunnel: listen %s: ServerConfig needs TokenHash and Authenticate", addr)
	}
	cfg.MaxFrameBytes = orDefault(cfg.MaxFrameBytes, defaultMaxFrameBytes)
	cfg.KeepAlive = orDefault(cfg.KeepAlive, defaultKeepAlive)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, defaultIdleTimeout)
	cfg.HandshakeTimeout = orDefault(cfg.HandshakeTimeout, defaultHandshakeTimeout)

	udpAddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("tunnel: listen %s: %w", addr, err)
	}
	udp, err := net.ListenUDP("udp", udpAddr)
	if err != nil {
		return nil, fmt.Errorf("tunnel: listen %s: %w", addr, err)
	}
	// An explicit Transport, rather than quic.ListenAddr, so that Close
	// provably releases the socket.
	transport := &quic.Transport{Conn: udp}
	listener, err := transport.Listen(serverTLSConfig(cfg.TLSCert), quicConfig(cfg.KeepAlive, cfg.IdleTimeout))
	if err != nil {
		_ = transport.Close()
		_ = udp.Close()
		return nil, fmt.Errorf("tunnel: listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logger := loggerOrDefault(cfg.Logger)
	return &Server{
		cfg:       cfg,
		logger:    logger.With("listen", listener.Addr().String()),
		udp:       udp,
		transport: transport,
		listener:  listener,
		ctx:       ctx,
		cancel:    cancel,
		conns:     make(map[*Conn]struct{}),
	}, nil
}

// Addr returns the UDP address the server listens on.
func (s *Server) Addr() net.Addr { return s.listener.Addr() }

// Conns returns the authenticated connections currently open, in no
// particular order.
func (s *Server) Conns() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.conns))
}

// Serve accepts robots until ctx ends or Close is called, then closes every
// connection, waits until their calls have returned and returns nil. It
// returns an error if accepting failed, or if the server was already
// serving or closed.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closing:
		s.mu.Unlock()
		return fmt.Errorf("tunnel: serve: %w", net.ErrClosed)
	case s.serving:
		s.mu.Unlock()
		return errors.New("tunnel: serve: already serving")
	}
	s.serving = true
	s.mu.Unlock()

	stop := context.AfterFunc(ctx, s.shutdown)
	defer stop()
	var acceptErr error
	for {
		qc, err := s.listener.Accept(s.ctx)
		if err != nil {
			if s.ctx.Err() == nil {
				acceptErr = fmt.Errorf("tunnel: accept: %w", err)
			}
			break
		}
		if !s.startWorker() {
			_ = qc.CloseWithError(codeShuttingDown, "node shutting down")
			continue
		}
		go s.handleConn(qc)
	}
	s.shutdown()
	s.workers.Wait()
	return acceptErr
}

// Close stops accepting robots, closes every connection telling the robots
// the node is shutting down, and waits until all their calls have returned
// and OnDisconnect has run for each; so it must not be called from a
// Handler, OnConnect or OnDisconnect.
func (s *Server) Close() error {
	s.shutdown()
	s.workers.Wait()
	return s.shutdownErr
}

// startWorker accounts for a connection goroutine, unless the server is
// closing: a WaitGroup must not grow once Close may be waiting on it.
func (s *Server) startWorker() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.workers.Add(1)
	return true
}

func (s *Server) shutdown() {
	s.shutdownOnce.Do(func() {
		s.mu.Lock()
		s.closing = true
		conns := slices.Collect(maps.Keys(s.conns))
		s.mu.Unlock()

		s.cancel()
		for _, c := range conns {
			_ = c.qc.CloseWithError(codeShuttingDown, "node shutting down")
		}
		s.shutdownErr = errors.Join(s.listener.Close(), s.transport.Close(), s.udp.Close())
		if s.shutdownErr != nil {
			s.shutdownErr = fmt.Errorf("tunnel: close: %w", s.shutdownErr)
		}
	})
}

// handleConn authenticates one robot and serves it until its connection is
// gone.
func (s *Server) handleConn(qc *quic.Conn) {
	defer s.workers.Done()
	remote := qc.RemoteAddr().String()

	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.HandshakeTimeout)
	defer cancel()
	hello, identity, str, err := s.acceptRobot(ctx, qc)
	if err != nil {
		s.refuse(qc, remote, hello, s.handshakeFailure(ctx, err))
		return
	}

	c := newConn(qc, identity, s.cfg.Handler, s.cfg.MaxFrameBytes, s.logger)
	c.serveStreams = !s.cfg.oneCallPerStream
	if !s.register(c) {
		_ = qc.CloseWithError(codeShuttingDown, "node shutting down")
		return
	}
	c.logger.Info("tunnel: robot connected", "name", hello.Name, "token_id", identity.TokenID, "version", hello.Version)
	if s.cfg.OnConnect != nil {
		s.cfg.OnConnect(c)
	}
	// The welcome goes out only now, so that when Dial returns the robot is
	// registered and listed by Conns.
	if err := welcome(ctx, str, welcomeMessage{Identity: identity, CallStreams: c.serveStreams}); err != nil {
		ce := s.handshakeFailure(ctx, err)
		c.logger.Warn("tunnel: robot lost before its welcome", "err", ce)
		_ = qc.CloseWithError(ce.code, ce.reason)
	}
	cancel()
	c.serve()

	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	err = c.Err()
	c.logger.Info("tunnel: robot disconnected", "err", err)
	if s.cfg.OnDisconnect != nil {
		s.cfg.OnDisconnect(c, err)
	}
}

func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

// refuse logs why a robot was not let in and closes its connection with a
// code and reason that tell it.
func (s *Server) refuse(qc *quic.Conn, remote string, hello Hello, ce *closeError) {
	level := slog.LevelWarn
	if ce.code == codeShuttingDown {
		level = slog.LevelInfo
	}
	s.logger.Log(context.Background(), level, "tunnel: robot refused",
		"remote", remote, "token_id", hello.TokenID, "name", hello.Name, "err", ce)
	_ = qc.CloseWithError(ce.code, ce.reason)
}
