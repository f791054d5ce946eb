package tunnel

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestServerCloseEndsRobotConnections(t *testing.T) {
	ts := startServer(t)
	robots := []*Conn{dialClient(t, ts.addr), dialClient(t, ts.addr)}
	for range robots {
		ts.nextConn(t)
	}

	if err := ts.close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, robot := range robots {
		// Without the node's CONNECTION_CLOSE this would take the 15 s
		// idle timeout.
		if took := waitDone(t, robot, 5*time.Second); took > 2*time.Second {
			t.Errorf("robot noticed the node closing after %v", took)
		}
		appErr, ok := remoteClose(robot.Err())
		if !ok || appErr.ErrorCode != codeShuttingDown {
			t.Errorf("robot's Err() = %v, want the node's shutdown code", robot.Err())
		}
		err := robot.Call(ctx, "echo", 1, nil)
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Call after the node closed = %v, want net.ErrClosed", err)
		}
	}
	for range robots {
		select {
		case err := <-ts.disconnected:
			if err == nil {
				t.Error("OnDisconnect got a nil error")
			}
		case <-time.After(time.Second):
			t.Fatal("OnDisconnect not called for every robot")
		}
	}
	if err := <-ts.served; err != nil {
		t.Fatalf("Serve returned %v after Close", err)
	}
	late, cancelLate := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancelLate()
	if _, err := Dial(late, ts.addr, ClientConfig{Hello: testHello("late"), TokenSecret: testSecret, TLS: ts.clientTLS()}); err == nil {
		t.Fatal("dialing a closed node succeeded")
	}
}

func TestServeStopsWithContext(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	ts.serveCancel()
	select {
	case err := <-ts.served:
		if err != nil {
			t.Fatalf("Serve = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return when its context ended")
	}
	waitDone(t, robot, time.Second)
	if err := ts.Serve(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Serve on a closed server = %v", err)
	}
}

func TestRobotCloseReachesNode(t *testing.T) {
	ts := startServer(t)
	robot := dialClient(t, ts.addr)
	node := ts.nextConn(t)

	if err := robot.Close("robot shutting down"); err != nil {
		t.Fatal(err)
	}
	waitDone(t, node, time.Second)
	select {
	case err := <-ts.disconnected:
		if !strings.Contains(err.Error(), "robot shutting down") {
			t.Fatalf("OnDisconnect error %q lacks the robot's reason", err)
		}
	case <-time.After(time.Second):
		t.Fatal("OnDisconnect not called")
	}
	if n := len(ts.Conns()); n != 0 {
		t.Fatalf("server still lists %d connections", n)
	}
}

// Keep-alives hold an idle connection open past the idle timeout, and a
// peer that silently vanishes is noticed by both sides within it.
func TestIdleTimeoutAndKeepAlive(t *testing.T) {
	const idle = time.Second
	ts := startServer(t, func(cfg *ServerConfig) {
		cfg.KeepAlive = idle / 4
		cfg.IdleTimeout = idle
	})
	relay := newUDPRelay(t, ts.addr)
	robot := dialClient(t, relay.addr(), func(cfg *ClientConfig) {
		cfg.KeepAlive = idle / 4
		cfg.IdleTimeout = idle
	})
	node := ts.nextConn(t)

	time.Sleep(2 * idle)
	select {
	case <-robot.Done():
		t.Fatalf("idle connection closed despite keep-alives: %v", robot.Err())
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := robot.Call(ctx, "echo", 1, nil); err != nil {
		t.Fatalf("call after an idle spell: %v", err)
	}

	relay.unplug()
	// quic-go may stretch the idle timeout to three probe timeouts; on
	// loopback those are short, and the slack is for a busy test machine.
	limit := 2*idle + time.Second
	unplugged := time.Now()
	waitDone(t, robot, 5*time.Second)
	robotNoticed := time.Since(unplugged)
	waitDone(t, node, 5*time.Second)
	nodeNoticed := time.Since(unplugged)
	t.Logf("idle timeout %v: robot noticed after %v, node after %v", idle, robotNoticed, nodeNoticed)
	if robotNoticed > limit || nodeNoticed > limit {
		t.Errorf("a vanished peer went unnoticed for more than %v", limit)
	}
	if !errors.Is(robot.Err(), net.ErrClosed) || !strings.Contains(robot.Err().Error(), "no recent network activity") {
		t.Errorf("robot's Err() = %v, want an idle timeout", robot.Err())
	}
}

// udpRelay forwards datagrams between one robot and a node until it is
// unplugged, after which it drops everything: a cable pulled mid-session.
type udpRelay struct {
	front   *net.UDPConn // the robot dials this
	back    *net.UDPConn // talks to the node
	node    *net.UDPAddr
	robot   atomic.Pointer[net.UDPAddr]
	dropped atomic.Bool
	wg      sync.WaitGroup
}

func newUDPRelay(t *testing.T, nodeAddr string) *udpRelay {
	t.Helper()
	node, err := net.ResolveUDPAddr("udp", nodeAddr)
	if err != nil {
		t.Fatal(err)
	}
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	r := &udpRelay{front: front, back: back, node: node}
	r.wg.Go(func() {
		r.pump(front, func(from *net.UDPAddr, p []byte) {
			r.robot.Store(from)
			_, _ = back.WriteToUDP(p, node)
		})
	})
	r.wg.Go(func() {
		r.pump(back, func(_ *net.UDPAddr, p []byte) {
			if robot := r.robot.Load(); robot != nil {
				_, _ = front.WriteToUDP(p, robot)
			}
		})
	})
	t.Cleanup(func() {
		_ = front.Close()
		_ = back.Close()
		r.wg.Wait()
	})
	return r
}

func (r *udpRelay) addr() string { return r.front.LocalAddr().String() }

func (r *udpRelay) unplug() { r.dropped.Store(true) }

// pump reads from conn until it is closed, forwarding unless unplugged.
func (r *udpRelay) pump(conn *net.UDPConn, forward func(*net.UDPAddr, []byte)) {
	buf := make([]byte, 64<<10)
	for {
		n, from, err := conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if !r.dropped.Load() {
			forward(from, buf[:n])
		}
	}
}

// Every goroutine the package starts is gone once its owner is closed.
func TestNoGoroutinesOutliveClose(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ts := startServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		robots := make([]*Conn, 3)
		for i := range robots {
			c, err := Dial(ctx, ts.addr, ClientConfig{Hello: testHello("pc"), TokenSecret: testSecret, TLS: ts.clientTLS()})
			if err != nil {
				t.Fatal(err)
			}
			robots[i] = c
			node := ts.nextConn(t)
			if err := c.Call(ctx, "echo", i, nil); err != nil {
				t.Fatal(err)
			}
			if err := node.Call(ctx, "anything", nil, nil); err == nil {
				t.Fatal("robot without a handler answered")
			}
		}
		// A call in flight when the node goes away.
		go func() { _ = robots[0].Call(ctx, "wait", nil, nil) }()
		waitFor(t, 5*time.Second, "the handler to start", func() bool { return ts.handled.Load() == 4 })
		if err := ts.close(); err != nil {
			t.Fatal(err)
		}
		for _, c := range robots {
			waitDone(t, c, 5*time.Second)
		}
		ts.serveCancel()
	}()
	waitFor(t, 5*time.Second, "goroutines to exit", func() bool {
		return runtime.NumGoroutine() <= before
	})
}
