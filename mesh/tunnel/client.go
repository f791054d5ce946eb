package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"
)

// ClientConfig configures the robot side of the tunnel.
type ClientConfig struct {
	// Hello describes the robot; Hello.TokenID names its token.
	Hello Hello
	// TokenSecret is the secret part of the robot token. It is sent only
	// to a node that TLS verified.
	TokenSecret string
	// TLS verifies the node: it must accept only node certificates of the
	// robot's cluster (pki.PinnedClientConfig with the CA fingerprint of
	// the robot token). The tunnel sets the protocol and TLS version.
	// Required.
	TLS *tls.Config

	// Handler serves calls from the node. If nil, they fail with
	// CodeNoHandler.
	Handler Handler

	// MaxFrameBytes bounds one request or response; 1 MiB if zero.
	MaxFrameBytes int
	// KeepAlive is how often an idle connection is pinged; 5 s if zero.
	KeepAlive time.Duration
	// IdleTimeout closes a connection that has heard nothing from the node
	// for this long; 15 s if zero.
	IdleTimeout time.Duration
	// HandshakeTimeout bounds the token handshake after the QUIC handshake;
	// 10 s if zero.
	HandshakeTimeout time.Duration

	// Logger receives connection events; slog.Default if nil.
	Logger *slog.Logger

	// oneCallPerStream makes the robot behave as one that predates call
	// streams: it opens a stream per call whatever the node offers. Tests
	// set it to stand in for an older robot.
	oneCallPerStream bool
}

// Dial connects to the node at the UDP address addr and authenticates with
// the robot token. ctx bounds connecting and authenticating only; the
// returned Conn lives until it is closed by either side or times out.
//
// A node that refused the token makes Dial return an error wrapping
// [ErrAuthRefused] with the node's reason; a peer whose certificate TLS
// refused makes it return one wrapping [ErrNodeNotTrusted] (and the
// secret was not sent). Neither is worth retrying at that address. Other errors are: a node that is
// down or shutting down, or one that is momentarily refusing QUIC
// handshakes because a burst of robots is still waiting to be accepted
// (quic-go queues at most 32); retry those with backoff.
func Dial(ctx context.Context, addr string, cfg ClientConfig) (*Conn, error) {
	if cfg.Hello.TokenID == "" || cfg.TokenSecret == "" {
		return nil, fmt.Errorf("tunnel: dial %s: missing robot token: both the token id and its secret are needed", addr)
	}
	if cfg.TLS == nil {
		return nil, fmt.Errorf("tunnel: dial %s: ClientConfig.TLS is nil: nothing would verify the node", addr)
	}
	cfg.MaxFrameBytes = orDefault(cfg.MaxFrameBytes, defaultMaxFrameBytes)
	cfg.KeepAlive = orDefault(cfg.KeepAlive, defaultKeepAlive)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, defaultIdleTimeout)
	cfg.HandshakeTimeout = orDefault(cfg.HandshakeTimeout, defaultHandshakeTimeout)

	var verifyErr error
	qc, err := quic.DialAddr(ctx, addr, clientTLSConfig(cfg.TLS, &verifyErr), quicConfig(cfg.KeepAlive, cfg.IdleTimeout))
	if err != nil {
		if verifyErr != nil {
			return nil, fmt.Errorf("tunnel: dial %s: %w: %w", addr, ErrNodeNotTrusted, verifyErr)
		}
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, err)
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.HandshakeTimeout)
	defer cancel()
	welcomed, err := proveRobot(hctx, qc, cfg.Hello, cfg.TokenSecret)
	if err != nil {
		err = explainHandshake(hctx, err)
		code, reason := codeHandshakeFailed, "handshake failed"
		if ce, ok := errors.AsType[*closeError](err); ok {
			code, reason = ce.code, ce.reason
		}
		_ = qc.CloseWithError(code, reason)
		return nil, fmt.Errorf("tunnel: dial %s: %w", addr, err)
	}

	c := newConn(qc, welcomed.Identity, cfg.Handler, cfg.MaxFrameBytes, loggerOrDefault(cfg.Logger))
	if welcomed.CallStreams && !cfg.oneCallPerStream {
		c.streams = &callStreams{}
	}
	go c.serve()
	return c, nil
}

// explainHandshake turns what the robot saw go wrong into an error that
// says why.
func explainHandshake(ctx context.Context, err error) error {
	if _, ok := errors.AsType[*closeError](err); ok {
		return err
	}
	if appErr, ok := remoteClose(err); ok {
		switch appErr.ErrorCode {
		case codeAuthRefused:
			return fmt.Errorf("%w: %s", ErrAuthRefused, appErr.ErrorMessage)
		case codeShuttingDown:
			return fmt.Errorf("node is shutting down: %w", err)
		}
		return fmt.Errorf("node closed the connection during the handshake: %w", err)
	}
	if ctx.Err() != nil {
		reason := "handshake timed out"
		if errors.Is(context.Cause(ctx), context.Canceled) {
			reason = "handshake canceled"
		}
		return &closeError{code: codeHandshakeFailed, reason: reason, err: context.Cause(ctx)}
	}
	return err
}
