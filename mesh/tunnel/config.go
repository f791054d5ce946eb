package tunnel

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"
)

// alpn is the only application protocol either side speaks; bump it when
// the framing or the handshake changes incompatibly.
const alpn = "casare/1"

const (
	defaultMaxFrameBytes    = 1 << 20
	defaultKeepAlive        = 5 * time.Second
	defaultIdleTimeout      = 15 * time.Second
	defaultHandshakeTimeout = 10 * time.Second

	// maxConcurrentCalls is how many calls a peer may have in flight on one
	// connection; quic-go's default of 100 is too few for a node pushing to
	// a busy robot while it heartbeats.
	maxConcurrentCalls = 1000

	// maxHandshakeFrameBytes bounds what an unauthenticated peer can make
	// a node buffer.
	maxHandshakeFrameBytes = 64 << 10
)

// quicConfig is the QUIC configuration of both sides. Keep-alives are off by
// default in quic-go, and without them an idle but healthy robot would be
// dropped at the idle timeout.
func quicConfig(keepAlive, idleTimeout time.Duration) *quic.Config {
	return &quic.Config{
		KeepAlivePeriod:       keepAlive,
		MaxIdleTimeout:        idleTimeout,
		MaxIncomingStreams:    maxConcurrentCalls,
		MaxIncomingUniStreams: -1, // the protocol has no unidirectional streams
	}
}

func serverTLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS13,
		NextProtos:   []string{alpn},
	}
}

// clientTLSConfig is base (which verifies the node: see
// ClientConfig.TLS) restricted to what the protocol speaks. verifyErr
// receives the reason base refused the node's certificate, which QUIC
// would otherwise flatten into a TLS alert.
func clientTLSConfig(base *tls.Config, verifyErr *error) *tls.Config {
	cfg := base.Clone()
	cfg.MinVersion = tls.VersionTLS13
	cfg.NextProtos = []string{alpn}
	if verify := base.VerifyConnection; verify != nil {
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			err := verify(cs)
			*verifyErr = err
			return err
		}
	}
	return cfg
}

// orDefault returns v, or def when v is not positive.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func loggerOrDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
