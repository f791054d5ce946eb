//go:build linux

package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/casare/casare/api/client"
)

// netLab is a private network the test builds from network namespaces:
// a hub namespace holding a bridge, and one namespace per host joined to
// the bridge by a veth pair, each host with its own address from a range
// that exists only inside these namespaces. The root namespace carries
// none of the traffic: the test reaches each node by opening its sockets
// inside that node's own namespace, so it can talk to a node whatever
// links are cut. Cutting a host's link sets its bridge port down, which
// drops everything in both directions, as a pulled cable or a dead switch
// port would.
//
// Namespace names carry the test binary's pid and a sequence number, so
// parallel runs do not clash; every namespace (and with it every link) is
// deleted when the test ends.
type netLab struct {
	tb     testing.TB
	prefix string
	hub    string
	mu     sync.Mutex
	hosts  map[string]*labHost
}

// labHost is one host of a netLab.
type labHost struct {
	name string
	ns   string // its namespace
	addr string // its address on the lab network
	port string // the hub-side end of its veth pair
}

// labSubnet is the lab network's address range (a /24 from RFC 1918
// space). It is routed nowhere: it exists only on the bridge of one
// test's hub namespace, so runs side by side may reuse it.
const labSubnet = "10.213.7."

// netnsEnv makes the partition tests fail instead of skipping where
// namespaces cannot be made; CI sets it, so the tests cannot silently
// stop running there.
const netnsEnv = "CASARE_TEST_NETNS"

var (
	labSeq   atomic.Int64
	labSweep sync.Once
)

// labNamePrefix starts every lab namespace's name; the pid of the test
// binary that made it follows.
const labNamePrefix = "casare"

// sweepStaleLabs deletes lab namespaces left by test binaries that died
// before their cleanup ran (a panic, a kill on timeout): a namespace
// whose maker's pid no longer exists is nobody's.
func sweepStaleLabs(tb testing.TB) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), labNamePrefix)
		pid, _, ok2 := strings.Cut(rest, "-")
		if !ok || !ok2 {
			continue
		}
		if _, err := strconv.Atoi(pid); err != nil {
			continue
		}
		if _, err := os.Stat(filepath.Join("/proc", pid)); err == nil {
			continue // its maker is alive: maybe a run beside this one
		}
		if out, err := exec.Command("ip", "netns", "del", e.Name()).CombinedOutput(); err != nil {
			tb.Logf("delete stale lab namespace %s: %v: %s", e.Name(), err, out)
		}
	}
}

// newNetLab makes a hub namespace with a bridge, or skips the test (fails
// it with CASARE_TEST_NETNS=1) where namespaces cannot be made.
func newNetLab(tb testing.TB) *netLab {
	tb.Helper()
	lab := &netLab{
		tb:     tb,
		prefix: fmt.Sprintf("%s%d-%d", labNamePrefix, os.Getpid(), labSeq.Add(1)),
		hosts:  map[string]*labHost{},
	}
	lab.hub = lab.prefix + "-hub"
	labSweep.Do(func() { sweepStaleLabs(tb) })
	if err := lab.try("netns", "add", lab.hub); err != nil {
		why := fmt.Sprintf("partition tests need network namespaces (root and iproute2): %v", err)
		if os.Getenv(netnsEnv) == "1" {
			tb.Fatalf("%s; %s=1 makes this a failure", why, netnsEnv)
		}
		tb.Skipf("%s; set %s=1 to fail instead of skipping", why, netnsEnv)
	}
	// Registered before any node starts, so it runs after the cluster's
	// cleanup has killed the processes.
	tb.Cleanup(lab.destroy)
	lab.ip("-n", lab.hub, "link", "set", "lo", "up")
	lab.ip("-n", lab.hub, "link", "add", "br0", "type", "bridge")
	lab.ip("-n", lab.hub, "link", "set", "br0", "up")
	return lab
}

// host makes a namespace for name, plugs it into the bridge and gives it
// the next address.
func (l *netLab) host(name string) *labHost {
	l.tb.Helper()
	l.mu.Lock()
	h := &labHost{
		name: name, ns: l.prefix + "-" + name,
		addr: labSubnet + strconv.Itoa(len(l.hosts)+1),
		port: "p" + strconv.Itoa(len(l.hosts)+1),
	}
	l.hosts[name] = h
	l.mu.Unlock()
	l.ip("netns", "add", h.ns)
	// The pair is made inside the hub with its peer created straight in
	// the host's namespace: no interface ever exists in the root one.
	l.ip("-n", l.hub, "link", "add", h.port, "type", "veth", "peer", "name", "eth0", "netns", h.ns)
	l.ip("-n", l.hub, "link", "set", h.port, "master", "br0", "up")
	l.ip("-n", h.ns, "link", "set", "lo", "up")
	l.ip("-n", h.ns, "addr", "add", h.addr+"/24", "dev", "eth0")
	l.ip("-n", h.ns, "link", "set", "eth0", "up")
	return h
}

// cut disconnects a host from the bridge; heal reconnects it.
func (l *netLab) cut(h *labHost)  { l.tb.Helper(); l.ip("-n", l.hub, "link", "set", h.port, "down") }
func (l *netLab) heal(h *labHost) { l.tb.Helper(); l.ip("-n", l.hub, "link", "set", h.port, "up") }

func (l *netLab) ip(args ...string) {
	l.tb.Helper()
	if err := l.try(args...); err != nil {
		l.tb.Fatal(err)
	}
}

func (l *netLab) try(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// destroy deletes every namespace the lab made; their veths go with them.
func (l *netLab) destroy() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.hosts {
		if err := l.try("netns", "del", h.ns); err != nil {
			l.tb.Errorf("cleanup: %v", err)
		}
	}
	if err := l.try("netns", "del", l.hub); err != nil {
		l.tb.Errorf("cleanup: %v", err)
	}
}

// dial opens a connection from inside the host's namespace: the socket
// is made on a locked thread that enters the namespace and then returns
// to its own. A thread that cannot return is left locked, so the runtime
// retires it rather than reuse it. Threads must not otherwise die: a node
// started from one gets its parent-death signal with it.
func (h *labHost) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		conn, err, back := h.dialInside(ctx, network, addr)
		if back {
			runtime.UnlockOSThread()
		}
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}

// dialInside dials from h's namespace on the current, locked thread and
// reports whether the thread is back in its own namespace.
func (h *labHost) dialInside(ctx context.Context, network, addr string) (net.Conn, error, bool) {
	own, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("open own namespace: %w", err), true
	}
	defer own.Close()
	target, err := os.Open(filepath.Join("/run/netns", h.ns))
	if err != nil {
		return nil, fmt.Errorf("open namespace %s: %w", h.ns, err), true
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("enter namespace %s: %w", h.ns, err), true
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, network, addr)
	return conn, err, unix.Setns(int(own.Fd()), unix.CLONE_NEWNET) == nil
}

// Fixed ports are fine inside the lab: each host has its own namespace,
// so its ports are its own.
const (
	labHTTPPort   = "8080"
	labRaftPort   = "7100"
	labGossipPort = "7200"
	labQUICPort   = "7300"
)

// addInLab adds a node that runs in host h's namespace, listening on h's
// address; the test's client reaches it from inside that namespace.
func (c *cluster) addInLab(lab *netLab, h *labHost, cmd []string) *node {
	c.tb.Helper()
	dir := filepath.Join(c.dir, h.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.tb.Fatal(err)
	}
	n := &node{
		tb: c.tb, name: h.name, dir: dir, logPath: filepath.Join(dir, "node.log"),
		http: net.JoinHostPort(h.addr, labHTTPPort),
		wrap: []string{"ip", "netns", "exec", h.ns},
	}
	n.args = append(cmd,
		"--name", h.name, "--data-dir", filepath.Join(dir, "data"), "--bind", h.addr,
		"--http-port", labHTTPPort, "--raft-port", labRaftPort,
		"--gossip-port", labGossipPort, "--quic-port", labQUICPort,
	)
	hc := &http.Client{Transport: &http.Transport{DialContext: h.dial}}
	n.tokenFile = c.adminTokenFile(dir, cmd)
	n.client = client.New("http://"+n.http, client.WithHTTPClient(hc), client.WithTimeout(callTimeout), withTokenFile(n.tokenFile))
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n
}

// startLabCluster starts size server nodes n1…nN, each on its own lab
// host, with the same extra flags, and waits until all are in the Raft
// configuration. It returns the hosts by node name.
func startLabCluster(tb testing.TB, lab *netLab, size int, extra ...string) (*cluster, map[string]*labHost) {
	tb.Helper()
	c := newCluster(tb)
	hosts := map[string]*labHost{}
	for i := 1; i <= size; i++ {
		name := fmt.Sprintf("n%d", i)
		h := lab.host(name)
		hosts[name] = h
		cmd := []string{"node", "start"}
		if i > 1 {
			cmd = c.joinCmd()
		}
		n := c.addInLab(lab, h, append(cmd, extra...))
		if i == 1 {
			c.setSeed(n)
		}
		n.start()
		n.waitReady()
	}
	c.waitServers(size)
	return c, hosts
}
