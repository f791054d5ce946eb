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
	mu          sync.Mutex
	client      *net.UDPAddr
	wg          sync.WaitGroup
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
		r.packets.Add(1)
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
		r.packets.Add(1)
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
func TestIdleInternetRobotIsQuietOnTheWire(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	n := startNode(t, cfg)
	relay := startUDPRelay(t, quicAddr(n))
	startInternetRobot(t, []string{relay.addr()}, newToken(t, n, ""), "idler", 1)
	testutil.WaitFor(t, 10*time.Second, "the node to record the robot connected", func() bool {
		for _, r := range n.Store().Robots() {
			if r.ID == "idler" && r.Kind == consensus.RobotInternet && r.Connected {
				return true
			}
		}
		return false
	})
	// The handshake's tail (tickets, connection ids, path MTU probes)
	// settles within the first RTTs; the robot's claim is then held.
	settle := time.NewTimer(time.Second)
	<-settle.C
	const window = 6 * time.Second
	before := relay.packets.Load()
	idle := time.NewTimer(window)
	<-idle.C
	got := relay.packets.Load() - before
	t.Logf("an idle robot's tunnel carried %d packets in %v", got, window)
	// A keep-alive each way at most per 5 s, each acknowledged, and room
	// for a stray retransmission: 2 to 6 were seen. A 1 s keep-alive
	// made 16.
	if got > 8 {
		t.Errorf("an idle robot's tunnel carried %d packets in %v, want at most 8", got, window)
	}
}
