package node

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
)

// udpRelay forwards one client's UDP datagrams to target and the answers
// back, counting both ways: it stands between an internet robot and its
// node to see what the tunnel costs on the wire.
type udpRelay struct {
	front, back *net.UDPConn
	packets     atomic.Int64
	// probes counts the datagrams larger than quicInitialPacketSize: path
	// MTU probes, on a tunnel whose calls are small.
	probes atomic.Int64
	mu     sync.Mutex
	client *net.UDPAddr
	wg     sync.WaitGroup
}

// quicInitialPacketSize is the datagram size quic-go sends until path MTU
// discovery has found a larger one works; it pads the handshake's Initial
// packets to it. A larger datagram is a discovery probe (a PING padded to
// the size tried) unless a packet was full of data, which an idle robot's
// small calls never are.
const quicInitialPacketSize = 1280

// count records a datagram of n bytes.
func (r *udpRelay) count(n int) {
	r.packets.Add(1)
	if n > quicInitialPacketSize {
		r.probes.Add(1)
	}
}

func startUDPRelay(t *testing.T, target string) *udpRelay {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	to, err := net.ResolveUDPAddr("udp", target)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, to)
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{front: front, back: back}
	r.wg.Go(r.toTarget)
	r.wg.Go(r.toClient)
	t.Cleanup(func() {
		front.Close()
		back.Close()
		r.wg.Wait()
	})
	return r
}

func (r *udpRelay) addr() string { return r.front.LocalAddr().String() }

func (r *udpRelay) toTarget() {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := r.front.ReadFromUDP(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.client = from
		r.mu.Unlock()
		r.count(n)
		if _, err := r.back.Write(buf[:n]); err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

func (r *udpRelay) toClient() {
	buf := make([]byte, 64<<10)
	for {
		n, err := r.back.Read(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // an ICMP error from the target; QUIC retransmits
		}
		r.mu.Lock()
		client := r.client
		r.mu.Unlock()
		r.count(n)
		if _, err := r.front.WriteToUDP(buf[:n], client); err != nil && errors.Is(err, net.ErrClosed) {
			return
		}
	}
}

// TestIdleInternetRobotIsQuietOnTheWire: an idle internet robot, its
// claim held at the node, keeps its tunnel alive with a few packets per
// keep-alive period (5 s), not a ping and its acknowledgement every
// second: a thousand idle robots are a thousand connections on each
// node, and those packets were most of an idle fleet's cost.
//
// Path MTU discovery is not counted: each side of a new connection sends
// a few probes (a binary search from 1,280 bytes up to what the path
// carries, then never again), each acknowledged by the peer. A probe goes
// out only with a packet sent anyway, at least five RTTs after the
// previous one, so how many fall in the window depends on the timing of
// the handshake's tail: on a loaded machine, where RTTs and acknowledgement
// delays grow, none went out before it, and at the first keep-alive each
// side's probe rode on the acknowledgement of the other's, all of them in
// a burst of 17 packets within 300 ms (qlog of a run under load, with
// and without call streams). The assertion allows a probe and its
// acknowledgement per probe seen and holds everything else to the bound.
func TestIdleInternetRobotIsQuietOnTheWire(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	n := startNode(t, cfg)
	relay := startUDPRelay(t, quicAddr(n))
	startInternetRobot(t, []string{relay.addr()}, newToken(t, n, ""), "idler", 1)
	testutil.WaitFor(t, 10*time.Second, "the node to record the robot connected and hold its claim", func() bool {
		for _, r := range n.Store().Robots() {
			if r.ID == "idler" && r.Kind == consensus.RobotInternet && r.Connected {
				return n.gateway.bell.held() == 1
			}
		}
		return false
	})
	// The tail of the claim's call (its acknowledgements, delayed up to
	// 25 ms) goes out within the first RTTs of the held claim.
	settle := time.NewTimer(time.Second)
	<-settle.C
	const window = 6 * time.Second
	before, probesBefore := relay.packets.Load(), relay.probes.Load()
	idle := time.NewTimer(window)
	<-idle.C
	got, probes := relay.packets.Load()-before, relay.probes.Load()-probesBefore
	t.Logf("an idle robot's tunnel carried %d packets in %v, %d of them path MTU probes", got, window, probes)
	// A keep-alive each way at most per 5 s, each acknowledged, and room
	// for a stray retransmission: 2 to 6 were seen. A 1 s keep-alive
	// made 16 (14, 10 of them besides 2 probes, once probes were counted).
	if other := got - 2*probes; other > 8 {
		t.Errorf("an idle robot's tunnel carried %d packets in %v besides %d path MTU probes and their acknowledgements, want at most 8", other, window, probes)
	}
	// The allowance is for discovery alone, which ends: quic-go searches
	// from 1,280 to 1,452 bytes in 4 probes a side. More large datagrams
	// are something else (a large frame sent again and again), which the
	// allowance would otherwise hide (review).
	if probes > maxMTUProbes {
		t.Errorf("an idle robot's tunnel carried %d datagrams over %d bytes in %v, want at most %d (path MTU discovery's probes)", probes, quicInitialPacketSize, window, maxMTUProbes)
	}
}

// maxMTUProbes is the most path MTU probes both sides of a tunnel send.
const maxMTUProbes = 8

// held is how many claims the bell holds.
func (b *workBell) held() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}
