package mesh

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// memberlist never contacts a member again once it has declared it dead:
// probes, push/pull syncs and (after GossipToTheDeadTime) gossip all skip
// dead members, and a member that has declared everyone else dead does the
// same from its side. After a network cut longer than the suspicion
// timeout, both sides of the cut therefore stay "dead" to each other after
// the link is back, until a node restarts. Serf solves this with its
// reconnect loop, and Mesh does the same: every ReconnectInterval it joins
// again, by a push/pull sync, every dead member at its last address and
// every address Reconnect.Peers lists that is not an alive member. The
// sync tells each side that the other declared it dead; each refutes with
// a higher incarnation, and the next gossip or sync spreads the refutation,
// so a healed link converges within one interval plus a probe round.

const (
	// DefaultReconnectInterval is how often dead members are retried.
	// Serf's 30 s suits a WAN; on a LAN a retry costs one TCP connect (a
	// push/pull exchange when it succeeds), and a robot that is cut off
	// and back should be seen alive about as fast as it was seen dead
	// (≈2.5 s with LANTiming), so that its work is not handed out for a
	// cut that has already healed.
	DefaultReconnectInterval = 2 * time.Second

	// reconnectParallel bounds the joins in flight in one round: a dead
	// host that drops packets holds its attempt for TCPTimeout, and a
	// fleet can have many dead robots at once.
	reconnectParallel = 8
)

// Reconnect configures the retrying of dead members.
type Reconnect struct {
	// Interval between rounds; 0 means DefaultReconnectInterval, a
	// negative value turns reconnecting off (tests of the bare
	// memberlist behaviour only).
	Interval time.Duration

	// Peers returns more gossip addresses (host:port) to try each round
	// while no alive member has them: the node passes the gossip
	// addresses of the servers in its Raft configuration, which it knows
	// even when gossip has forgotten them. It is called from the
	// reconnect goroutine and must not block. nil adds none.
	Peers func() []string

	// Retry reports whether a dead member is still worth retrying; nil
	// retries every dead member until its tombstone expires
	// (Config.TombstoneTTL). Members that left are never retried.
	Retry func(Member) bool
}

// reconnectLoop runs rounds until stop is closed.
func (m *Mesh) reconnectLoop(stop <-chan struct{}, cfg Reconnect) {
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			m.reconnectRound(stop, cfg)
		}
	}
}

// reconnectRound tries every target once, a few at a time.
func (m *Mesh) reconnectRound(stop <-chan struct{}, cfg Reconnect) {
	targets := m.reconnectTargets(cfg)
	if len(targets) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	sem := make(chan struct{}, reconnectParallel)
	var wg sync.WaitGroup
	for _, addr := range targets {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		wg.Go(func() {
			defer func() { <-sem }()
			m.reconnect(addr)
		})
	}
	wg.Wait()
}

// reconnect joins one address. A failure is expected while the member is
// still down, so it is logged at debug level only.
func (m *Mesh) reconnect(addr string) {
	n, err := m.ml.Join([]string{addr})
	if n > 0 {
		m.logger.Info("reconnected to a gossip member", "addr", addr)
		return
	}
	m.logger.Debug("gossip reconnect failed", "addr", addr, "err", err)
}

// reconnectTargets lists the addresses to try this round, in random order
// so that a slow target does not always hold up the same others.
func (m *Mesh) reconnectTargets(cfg Reconnect) []string {
	var extra []string
	if cfg.Peers != nil {
		extra = cfg.Peers()
	}
	m.mu.Lock()
	members := m.roster.list(time.Now())
	m.mu.Unlock()
	alive := map[string]bool{m.addr: true}
	for _, mem := range members {
		if mem.State == StateAlive {
			alive[mem.Addr] = true
		}
	}
	var targets []string
	add := func(addr string) {
		if addr != "" && !alive[addr] && !slices.Contains(targets, addr) {
			targets = append(targets, addr)
		}
	}
	for _, mem := range members {
		if mem.State == StateDead && (cfg.Retry == nil || cfg.Retry(mem)) {
			add(mem.Addr)
		}
	}
	for _, addr := range extra {
		add(addr)
	}
	rand.Shuffle(len(targets), func(i, j int) { targets[i], targets[j] = targets[j], targets[i] })
	return targets
}
