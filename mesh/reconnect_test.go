package mesh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// cutTransport is memberlist's real network transport with a switch that
// cuts the node off: while cut, every packet to or from it is dropped,
// every connection it dials fails and every connection it is offered is
// closed, as when its link is down. Healing restores it without touching
// memberlist, as when the link comes back.
type cutTransport struct {
	memberlist.Transport
	cut     atomic.Bool
	packets chan *memberlist.Packet
	streams chan net.Conn
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newCutTransport(inner memberlist.Transport) *cutTransport {
	c := &cutTransport{
		Transport: inner,
		packets:   make(chan *memberlist.Packet),
		streams:   make(chan net.Conn),
		stop:      make(chan struct{}),
	}
	c.wg.Go(func() { relay(c, inner.PacketCh(), c.packets, func(*memberlist.Packet) {}) })
	c.wg.Go(func() { relay(c, inner.StreamCh(), c.streams, func(conn net.Conn) { conn.Close() }) })
	return c
}

// relay passes what arrives on in to out, or drops it while cut.
func relay[T any](c *cutTransport, in <-chan T, out chan<- T, drop func(T)) {
	for {
		select {
		case <-c.stop:
			return
		case v := <-in:
			if c.cut.Load() {
				drop(v)
				continue
			}
			select {
			case out <- v:
			case <-c.stop:
				return
			}
		}
	}
}

var errCut = errors.New("link cut")

func (c *cutTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	if c.cut.Load() {
		return time.Now(), nil // sent into the void, as UDP over a dead link
	}
	return c.Transport.WriteTo(b, addr)
}

func (c *cutTransport) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if c.cut.Load() {
		return nil, fmt.Errorf("dial %s: %w", addr, errCut)
	}
	return c.Transport.DialTimeout(addr, timeout)
}

func (c *cutTransport) PacketCh() <-chan *memberlist.Packet { return c.packets }
func (c *cutTransport) StreamCh() <-chan net.Conn           { return c.streams }

func (c *cutTransport) Shutdown() error {
	err := c.Transport.Shutdown()
	close(c.stop)
	c.wg.Wait()
	return err
}

// startCuttable starts n members whose links can be cut, with the given
// reconnect interval (negative: none), joined and all alive.
func startCuttable(t *testing.T, n int, reconnect time.Duration) ([]*Mesh, []*cutTransport) {
	t.Helper()
	logger := testLogger(t)
	nodes := make([]*Mesh, n)
	links := make([]*cutTransport, n)
	for i := range nodes {
		m, err := New(Config{
			Name: fmt.Sprintf("node-%d", i), BindAddr: "127.0.0.1", Meta: testMeta(i), Logger: logger,
			Reconnect: Reconnect{Interval: reconnect},
			wrapTransport: func(inner memberlist.Transport) memberlist.Transport {
				links[i] = newCutTransport(inner)
				return links[i]
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Shutdown() })
		nodes[i] = m
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, m := range nodes[1:] {
		if _, err := m.Join(ctx, []string{nodes[0].Addr()}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 10*time.Second, "every node sees every node alive", func() bool { return allSee(nodes, nodes, StateAlive) })
	return nodes, links
}

// allSee reports whether every observer sees every member in state.
func allSee(observers, members []*Mesh, state string) bool {
	for _, o := range observers {
		for _, m := range members {
			if o == m {
				continue
			}
			if got, _, _ := o.MemberState(m.name); got != state {
				return false
			}
		}
	}
	return true
}

// cutUntilDead cuts node i off until both sides have declared each other
// dead, then heals the link and returns when it healed.
func cutUntilDead(t *testing.T, nodes []*Mesh, links []*cutTransport, i int) time.Time {
	t.Helper()
	victim, rest := nodes[i], append(append([]*Mesh{}, nodes[:i]...), nodes[i+1:]...)
	links[i].cut.Store(true)
	waitFor(t, 20*time.Second, victim.name+" and the others see each other dead", func() bool {
		return allSee(rest, []*Mesh{victim}, StateDead) && allSee([]*Mesh{victim}, rest, StateDead)
	})
	links[i].cut.Store(false)
	return time.Now()
}

// TestReconnectHealsCut: a member cut off long enough to be declared dead
// (and to declare the others dead) is seen alive again on both sides
// within one reconnect interval plus a probe round of the link healing,
// with no restart.
func TestReconnectHealsCut(t *testing.T) {
	const interval = time.Second
	nodes, links := startCuttable(t, 4, interval)
	for round, victim := range []int{3, 1} {
		healed := cutUntilDead(t, nodes, links, victim)
		waitFor(t, 10*time.Second, "every view is alive again after the heal", func() bool {
			return allSee(nodes, nodes, StateAlive)
		})
		took := time.Since(healed)
		t.Logf("cut %d: every view alive %v after the heal (interval %v)", round, took.Round(time.Millisecond), interval)
		// One interval until a round starts, a join, and a probe round or
		// gossip hop to spread the refutation; generous for a loaded
		// machine, far below "never".
		if bound := interval + 3*time.Second; took > bound {
			t.Errorf("views converged %v after the heal, want within %v", took, bound)
		}
	}
}

// TestReconnectPeers: a member that gossip has forgotten entirely is
// still reached through an address Reconnect.Peers lists (as the node
// lists the servers of its Raft configuration).
func TestReconnectPeers(t *testing.T) {
	logger := testLogger(t)
	a := startNode(t, logger, "node-a", 0, testMeta(0))
	b, err := New(Config{
		Name: "node-b", BindAddr: "127.0.0.1", Meta: testMeta(1), Logger: logger,
		Reconnect: Reconnect{Interval: 200 * time.Millisecond, Peers: func() []string { return []string{a.Addr()} }},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Shutdown() })
	waitFor(t, 10*time.Second, "node-a and node-b see each other alive without a join", func() bool {
		return allSee([]*Mesh{a, b}, []*Mesh{a, b}, StateAlive)
	})
}
