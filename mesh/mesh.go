package mesh

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"github.com/casare/casare/internal/retry"
)

// ErrClosed is returned by operations on a Mesh after Leave or Shutdown.
var ErrClosed = errors.New("mesh: closed")

const (
	// maxWait caps how long Leave and UpdateMeta wait for a broadcast when
	// their context has no deadline: memberlist takes a timeout, not a
	// context, and would otherwise wait forever for a broadcast that can
	// no longer go out. On a LAN a broadcast completes in well under a
	// second.
	maxWait = 5 * time.Second

	// Join retries back off between these bounds: quick enough to catch a
	// seed that is just starting, slow enough not to spin on one that is
	// down.
	joinRetryMin = 250 * time.Millisecond
	joinRetryMax = 2 * time.Second
)

// Mesh is this node's membership in the gossip cluster.
type Mesh struct {
	keyring    *memberlist.Keyring // nil: plain gossip
	name       string
	instance   uint64 // identifies this run of the node; see wireMeta
	addr       string
	logger     *slog.Logger
	ml         *memberlist.Memberlist
	broadcasts *memberlist.TransmitLimitedQueue // leave intents
	events     *fanout
	numAlive   atomic.Int64 // read by broadcasts without taking mu

	// intentWindow is how long a leave intent keeps riding along in
	// push/pull syncs after the member left. memberlist keeps a left node
	// in its own syncs for GossipToTheDeadTime, and a peer that learns of
	// the departure from one of them needs the intent in the same sync; a
	// few more push/pull rounds give a peer that got memberlist's leave
	// message but missed the intent a chance to meet someone who has it.
	intentWindow time.Duration

	// mu guards the member table and the local meta. memberlist calls into
	// Mesh while holding its own node lock, so mu is never held while
	// calling into memberlist.
	mu     sync.Mutex
	roster *roster
	meta   []byte // encoded local Meta, served to memberlist
	frozen bool   // shut down: late memberlist callbacks no longer count

	// lifeMu serialises Leave and Shutdown: memberlist panics on a Leave
	// after Shutdown.
	lifeMu  sync.Mutex
	left    bool
	closing atomic.Bool   // Leave or Shutdown has begun
	done    chan struct{} // closed once memberlist is shut down

	stopLoops     chan struct{} // closed to stop the reconnect loop
	stopLoopsOnce sync.Once
	loops         sync.WaitGroup
}

// New starts gossip on the configured address. The node is a cluster of
// one until Join.
func New(cfg Config) (*Mesh, error) {
	cfg, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	instance := rand.Uint64()
	meta, err := encodeMeta(cfg.Meta, instance)
	if err != nil {
		return nil, fmt.Errorf("start gossip: %w", err)
	}
	logger := cfg.Logger.With("gossip_node", cfg.Name)
	m := &Mesh{
		name:     cfg.Name,
		instance: instance,
		logger:   logger,
		events:   newFanout(logger),
		roster:   newRoster(cfg.TombstoneTTL, cfg.MaxTombstones),
		meta:     meta,
		done:     make(chan struct{}),

		stopLoops: make(chan struct{}),

		intentWindow: cfg.Timing.GossipToTheDeadTime + 3*cfg.Timing.PushPullInterval,
	}
	m.broadcasts = &memberlist.TransmitLimitedQueue{
		NumNodes:       func() int { return max(1, int(m.numAlive.Load())) },
		RetransmitMult: cfg.Timing.RetransmitMult,
	}

	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.Name
	mc.BindAddr = cfg.BindAddr
	mc.BindPort = cfg.BindPort
	mc.AdvertiseAddr = cfg.AdvertiseAddr
	mc.AdvertisePort = cfg.AdvertisePort
	cfg.Timing.apply(mc)
	// Compression pays for itself only on large push-pull states; for the
	// pings, acks and small broadcasts that are nearly all of a mesh's
	// traffic it built an LZW table per message (compressPayload was 5%
	// of an idle leader's CPU in the fleet bench). Members decode
	// compressed messages either way, so mixed versions still talk.
	mc.EnableCompression = false
	mc.Delegate = delegate{m}
	mc.Events = delegate{m}
	mc.Logger = newMemberlistLogger(logger)
	if cfg.Keyring != nil {
		mc.Keyring, m.keyring = cfg.Keyring, cfg.Keyring
		// Both directions on: a message that is not encrypted with a key
		// of the ring is dropped, so a member without the key cannot join.
		mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	}
	bind := net.JoinHostPort(cfg.BindAddr, strconv.Itoa(cfg.BindPort))
	if cfg.wrapTransport != nil {
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
			BindAddrs: []string{cfg.BindAddr}, BindPort: cfg.BindPort, Logger: mc.Logger,
		})
		if err != nil {
			return nil, fmt.Errorf("start gossip on %s: %w", bind, err)
		}
		mc.BindPort, mc.AdvertisePort = nt.GetAutoBindPort(), nt.GetAutoBindPort()
		mc.Transport = cfg.wrapTransport(nt)
	}

	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("start gossip on %s: %w", bind, err)
	}
	m.ml = ml
	m.addr = ml.LocalNode().Address()
	if cfg.Reconnect.Interval > 0 {
		m.loops.Go(func() { m.reconnectLoop(m.stopLoops, cfg.Reconnect) })
	}
	logger.Info("gossip started", "addr", m.addr, "reconnect_interval", cfg.Reconnect.Interval)
	return m, nil
}

// stopReconnecting ends the reconnect loop and waits for it, so that no
// join races a leave or a shutdown. A join in flight can hold it for up
// to Timing.TCPTimeout.
func (m *Mesh) stopReconnecting() {
	m.stopLoopsOnce.Do(func() { close(m.stopLoops) })
	m.loops.Wait()
}

// Addr returns the gossip host:port this node advertises, which is what
// other nodes pass to Join.
func (m *Mesh) Addr() string { return m.addr }

// Join contacts the given gossip addresses (host:port) and merges state
// with every one that answers, retrying with backoff until at least one
// does or ctx ends. It returns how many answered. An attempt in flight
// may overrun ctx by up to Timing.TCPTimeout per address.
func (m *Mesh) Join(ctx context.Context, addrs []string) (int, error) {
	if len(addrs) == 0 {
		return 0, errors.New("mesh: join gossip: no addresses given")
	}
	seeds := strings.Join(addrs, ", ")
	// Closing the mesh ends the wait between tries as its context would.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		select {
		case <-m.done:
			cancel(ErrClosed)
		case <-ctx.Done():
		}
	}()
	p := retry.Policy{First: joinRetryMin, Max: joinRetryMax, OnRetry: func(_ int, err error, wait time.Duration) {
		m.logger.Warn("gossip join failed; retrying", "via", seeds, "retry_in", wait, "err", err)
	}}
	n, err := retry.Do(ctx, p, func() (int, error) {
		if m.closing.Load() {
			return 0, retry.Permanent(ErrClosed)
		}
		n, err := m.ml.Join(addrs)
		if n == 0 && err == nil {
			// memberlist reports no error when no address resolved at all.
			err = errors.New("no address resolved")
		}
		if n > 0 {
			err = nil
		}
		return n, err
	})
	if err != nil {
		return 0, fmt.Errorf("join gossip via %s: %w", seeds, err)
	}
	m.logger.Info("joined gossip", "via", seeds, "answered", n)
	return n, nil
}

// Members returns every member this node knows of, sorted by name: the
// alive ones, itself included, and the dead and left ones it still
// remembers.
func (m *Mesh) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.roster.list(time.Now())
}

// MemberState reports a member's state and since when this node has seen
// it in that state; ok is false for a name it does not know or has
// forgotten.
func (m *Mesh) MemberState(name string) (state string, since time.Time, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.roster.state(name, time.Now())
}

// Subscribe returns a channel of membership events and a function that
// unsubscribes and closes the channel. buf is the channel's capacity
// (0 picks a default). Delivery never blocks gossip: a subscriber whose
// buffer is full loses events, which is logged and counted in
// DroppedEvents, so a subscriber that must not miss changes should
// reconcile with Members after a drop. To start from a consistent view,
// subscribe first and then call Members. The channel is closed on
// Leave or Shutdown.
func (m *Mesh) Subscribe(buf int) (<-chan Event, func()) {
	return m.events.subscribe(buf)
}

// DroppedEvents returns how many events subscribers have lost because
// their buffers were full.
func (m *Mesh) DroppedEvents() uint64 {
	return m.events.dropped.Load()
}

// UpdateMeta replaces what this node advertises and waits until the change
// has been gossiped its full retransmit count or ctx's deadline passes
// (without a deadline, at most a few seconds). On such a timeout the new
// Meta is still in effect and keeps spreading.
func (m *Mesh) UpdateMeta(ctx context.Context, meta Meta) error {
	if m.closing.Load() {
		return fmt.Errorf("update gossip meta: %w", ErrClosed)
	}
	buf, err := encodeMeta(meta, m.instance)
	if err != nil {
		return fmt.Errorf("update gossip meta: %w", err)
	}
	timeout, err := waitBudget(ctx)
	if err != nil {
		return fmt.Errorf("update gossip meta: %w", err)
	}
	m.mu.Lock()
	m.meta = buf
	m.mu.Unlock()
	if err := m.ml.UpdateNode(timeout); err != nil {
		return fmt.Errorf("update gossip meta: %w", err)
	}
	return nil
}

// Leave departs gracefully, so that other members record this node as
// "left" rather than "dead", and then shuts down like Shutdown. It waits
// for the departure to be gossiped until ctx's deadline (without one, at
// most a few seconds); if the wait is cut short, peers may see "dead"
// first and correct it once the leave reaches them. Leave after Leave
// returns nil; Leave after Shutdown returns ErrClosed.
func (m *Mesh) Leave(ctx context.Context) error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.left {
		return nil
	}
	if m.closing.Load() {
		return fmt.Errorf("leave gossip: %w", ErrClosed)
	}
	m.left = true
	m.closing.Store(true)
	m.stopReconnecting()
	err := m.leave(ctx)
	return errors.Join(err, m.shutdown())
}

func (m *Mesh) leave(ctx context.Context) error {
	if err := m.announceLeave(ctx); err != nil {
		return fmt.Errorf("leave gossip: %w", err)
	}
	timeout, err := waitBudget(ctx)
	if err != nil {
		return fmt.Errorf("leave gossip: %w", err)
	}
	if err := m.ml.Leave(timeout); err != nil {
		return fmt.Errorf("leave gossip: %w", err)
	}
	m.logger.Info("left gossip")
	return nil
}

// Shutdown stops gossip without leaving: other members will declare this
// node dead, exactly as if the process had been killed. It closes the
// event channels. Calling it again does nothing.
func (m *Mesh) Shutdown() error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	m.closing.Store(true)
	return m.shutdown()
}

// shutdown stops memberlist once; the caller holds lifeMu.
func (m *Mesh) shutdown() error {
	select {
	case <-m.done:
		return nil
	default:
	}
	m.stopReconnecting()
	err := m.ml.Shutdown()
	m.mu.Lock()
	m.frozen = true
	m.mu.Unlock()
	m.events.close()
	close(m.done)
	if err != nil {
		return fmt.Errorf("shut down gossip: %w", err)
	}
	return nil
}

// waitBudget turns ctx into the timeout that memberlist's blocking calls
// take instead of a context. memberlist treats a zero timeout as "wait
// forever", so an expired deadline is reported as an error instead.
func waitBudget(ctx context.Context) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return maxWait, nil
	}
	timeout := time.Until(deadline)
	if timeout <= 0 {
		return 0, context.DeadlineExceeded
	}
	return timeout, nil
}
