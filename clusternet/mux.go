package clusternet

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the first byte after the handshake: what a connection is for.
type Kind byte

const (
	KindRaft Kind = 'R'
	KindHTTP Kind = 'H'
	KindJoin Kind = 'J'
)

// handshakeTimeout bounds the TLS handshake and the kind byte, so that a
// peer that connects and says nothing cannot hold a goroutine.
const handshakeTimeout = 10 * time.Second

// ErrClosed is returned by the listeners of a closed Mux.
var ErrClosed = errors.New("clusternet: listener closed")

// Mux accepts connections on the cluster port and hands each to the
// listener for its kind.
type Mux struct {
	ln        net.Listener
	tls       *tls.Config
	advertise net.Addr
	log       *slog.Logger
	subs      map[Kind]*subListener

	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

// Listen opens the cluster port on bind. server is the mutual-TLS server
// config (pki.Identity.ServerConfig); Listen relaxes it to let anonymous
// joiners through to the 'J' kind only. advertise is the address peers
// dial ("" means the bound address).
func Listen(bind, advertise string, server *tls.Config, log *slog.Logger) (*Mux, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("listen on cluster address %s: %w", bind, err)
	}
	var adv net.Addr = ln.Addr()
	if advertise != "" {
		host, port, _ := net.SplitHostPort(advertise)
		if port == "0" { // the kernel picked the port; advertise that
			_, port, _ = net.SplitHostPort(ln.Addr().String())
		}
		if adv, err = net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port)); err != nil {
			ln.Close()
			return nil, fmt.Errorf("cluster advertise address %s: %w", advertise, err)
		}
	}
	conf := server.Clone()
	conf.ClientAuth = tls.VerifyClientCertIfGiven
	m := &Mux{ln: ln, tls: conf, advertise: adv, log: log.With("component", "cluster-listener"), done: make(chan struct{})}
	m.subs = map[Kind]*subListener{}
	for _, k := range []Kind{KindRaft, KindHTTP, KindJoin} {
		m.subs[k] = &subListener{mux: m, conns: make(chan net.Conn)}
	}
	m.wg.Go(m.serve)
	return m, nil
}

// Addr is the advertised address of the cluster port.
func (m *Mux) Addr() net.Addr { return m.advertise }

// Listener returns the listener of one kind of connection. Connections
// of a kind nobody asked the listener of (Raft on a robot-only member)
// are closed at once rather than queued.
func (m *Mux) Listener(k Kind) net.Listener {
	m.subs[k].served.Store(true)
	return m.subs[k]
}

// Close stops accepting; connections already handed out stay open.
func (m *Mux) Close() error {
	var err error
	m.closeOnce.Do(func() {
		close(m.done)
		err = m.ln.Close()
		m.wg.Wait()
	})
	return err
}

func (m *Mux) serve() {
	for {
		conn, err := m.ln.Accept()
		if err != nil {
			select {
			case <-m.done:
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.log.Error("cluster listener stopped accepting", "err", err)
			return
		}
		m.wg.Go(func() { m.route(conn) })
	}
}

// route finishes the handshake, reads the kind byte and hands the
// connection on, or closes it.
func (m *Mux) route(raw net.Conn) {
	conn := tls.Server(raw, m.tls)
	kind, err := m.identify(conn)
	if err != nil {
		m.log.Debug("refused a cluster connection", "remote", raw.RemoteAddr().String(), "err", err)
		conn.Close()
		return
	}
	select {
	case m.subs[kind].conns <- conn:
	case <-m.done:
		conn.Close()
	}
}

func (m *Mux) identify(conn *tls.Conn) (Kind, error) {
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	defer cancel()
	conn.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := conn.HandshakeContext(ctx); err != nil {
		return 0, fmt.Errorf("TLS handshake: %w", err)
	}
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil {
		return 0, fmt.Errorf("read connection kind: %w", err)
	}
	conn.SetDeadline(time.Time{})
	kind := Kind(b[0])
	if sub, ok := m.subs[kind]; !ok || !sub.served.Load() {
		return 0, fmt.Errorf("connection kind %q is not served here", b[0])
	}
	if kind != KindJoin && len(conn.ConnectionState().PeerCertificates) == 0 {
		return 0, fmt.Errorf("connection kind %q needs a node certificate and the peer sent none", b[0])
	}
	return kind, nil
}

// subListener is the net.Listener of one kind.
type subListener struct {
	mux    *Mux
	conns  chan net.Conn
	served atomic.Bool
}

func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.mux.done:
		return nil, ErrClosed
	}
}

// Close closes the whole mux: the kinds share one port and one lifetime.
func (l *subListener) Close() error   { return l.mux.Close() }
func (l *subListener) Addr() net.Addr { return l.mux.advertise }
