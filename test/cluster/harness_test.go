//go:build unix

package cluster

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/internal/proctest"
	"github.com/casare/casare/internal/testutil"
)

// casareBin is the binary every node runs; TestMain builds it.
var casareBin string

func TestMain(m *testing.M) {
	os.Exit(proctest.Main(m, &casareBin))
}

// Bounds on how long the harness waits. The machine running the tests
// may be small and busy, so they are generous; none is a product target.
const (
	startTimeout  = 45 * time.Second // a process answers ready
	settleTimeout = 60 * time.Second // a cluster-wide condition holds
	exitTimeout   = 20 * time.Second // a signalled process exits
	callTimeout   = 10 * time.Second // one API call
	pollInterval  = 50 * time.Millisecond
	// processLifetime is a last resort against a test that hangs: no
	// node outlives it even if every cleanup is skipped.
	processLifetime = 20 * time.Minute
	logTailLines    = 60
)

// node is one casare process, started from a fixed command line so that
// a restart is exactly the command that first started it.
type node struct {
	tb      testing.TB
	name    string
	dir     string // working directory: data dir and log live here
	logPath string
	http    string // host:port of the API
	cluster string // host:port of the cluster port (Raft, internal endpoints)
	args    []string
	// wrap runs the command line through another program, such as
	// "ip netns exec NS" for a node on a lab host.
	wrap   []string
	client *client.Client
	// tokenFile is the cluster's admin token: the admin.token its
	// bootstrapping node wrote at its first start.
	tokenFile string

	starts int // only the test goroutine starts a node

	mu     sync.Mutex
	proc   *os.Process
	exited chan struct{} // closed when the current process has exited
	state  *os.ProcessState
}

// cluster is the set of nodes one test started. Every process is killed
// when the test ends, and if the test failed the tail of each node's log
// is printed.
type cluster struct {
	tb    testing.TB
	dir   string
	mu    sync.Mutex
	nodes []*node
	seed  string // HTTP address of the first node, which joiners name
	// tokenFile is where the bootstrapping node writes the admin token.
	tokenFile string
	// seedToken is the join token file the first node writes at its
	// first start; joiners read it, as an operator copies it.
	seedToken string
}

func newCluster(tb testing.TB) *cluster {
	tb.Helper()
	c := &cluster{tb: tb, dir: tb.TempDir()}
	tb.Cleanup(func() {
		for _, n := range c.all() {
			n.killQuietly()
		}
		if tb.Failed() {
			for _, n := range c.all() {
				n.dumpLog()
			}
		}
	})
	return c
}

// startCluster starts size server nodes n1…nN with the same extra flags
// and waits until all of them are in the Raft configuration.
func startCluster(tb testing.TB, size int, extra ...string) *cluster {
	tb.Helper()
	c := newCluster(tb)
	c.bootstrap("n1", extra...)
	for i := 2; i <= size; i++ {
		c.join(fmt.Sprintf("n%d", i), extra...)
	}
	c.waitServers(size)
	return c
}

// bootstrap starts the node that creates the cluster.
func (c *cluster) bootstrap(name string, extra ...string) *node {
	c.tb.Helper()
	n := c.add(name, append([]string{"node", "start"}, extra...))
	c.setSeed(n)
	n.start()
	n.waitReady()
	return n
}

// join starts a node that joins the cluster through the first node.
func (c *cluster) join(name string, extra ...string) *node {
	c.tb.Helper()
	if c.seed == "" {
		c.tb.Fatal("join before bootstrap")
	}
	n := c.add(name, append(c.joinCmd(), extra...))
	n.start()
	n.waitReady()
	return n
}

// setSeed makes n the node joiners name, and its join token the one
// they present.
func (c *cluster) setSeed(n *node) {
	c.seed = n.http
	c.seedToken = filepath.Join(n.dir, "data", "join.token")
}

// joinCmd is `casare node join` through the seed with its join token
// file. The file may not exist yet: a joiner waits for it.
func (c *cluster) joinCmd() []string {
	return []string{"node", "join", c.seed, "--join-token-file", c.seedToken}
}

func (c *cluster) add(name string, cmd []string) *node {
	c.tb.Helper()
	dir := filepath.Join(c.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.tb.Fatal(err)
	}
	ports := testutil.FreePorts(c.tb, 4)
	n := &node{
		tb: c.tb, name: name, dir: dir, logPath: filepath.Join(dir, "node.log"),
		http:    net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		cluster: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
	}
	n.args = append(cmd,
		"--name", name, "--data-dir", filepath.Join(dir, "data"), "--bind", "127.0.0.1",
		"--http-port", strconv.Itoa(ports[0]), "--raft-port", strconv.Itoa(ports[1]),
		"--gossip-port", strconv.Itoa(ports[2]), "--quic-port", strconv.Itoa(ports[3]),
	)
	n.tokenFile = c.adminTokenFile(dir, cmd)
	n.client = client.New("http://"+n.http, client.WithTimeout(callTimeout), withTokenFile(n.tokenFile))
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	return n
}

// adminTokenFile returns where the cluster's admin token is: in the data
// dir (under dir) of the first node added with "node start", the one
// that bootstraps.
func (c *cluster) adminTokenFile(dir string, cmd []string) string {
	if c.tokenFile == "" && slices.Equal(cmd[:2], []string{"node", "start"}) {
		c.tokenFile = filepath.Join(dir, "data", "admin.token")
	}
	return c.tokenFile
}

func (c *cluster) all() []*node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.nodes)
}

// running returns the nodes whose process is up (possibly paused).
func (c *cluster) running() []*node {
	return slices.DeleteFunc(c.all(), func(n *node) bool { return !n.running() })
}

func (c *cluster) byName(name string) *node {
	c.tb.Helper()
	for _, n := range c.all() {
		if n.name == name {
			return n
		}
	}
	c.tb.Fatalf("no node named %q", name)
	return nil
}

// others returns the running nodes except the given ones.
func (c *cluster) others(except ...*node) []*node {
	return slices.DeleteFunc(c.running(), func(n *node) bool { return slices.Contains(except, n) })
}

// start runs the node's command line as a new process, its output
// appended to the node's log.
func (n *node) start() {
	n.tb.Helper()
	// No lock is held across Fatal: the cleanup that kills the
	// processes takes it too.
	if n.running() {
		n.tb.Fatalf("%s is already running", n.name)
	}
	logFile, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.tb.Fatal(err)
	}
	n.starts++
	fmt.Fprintf(logFile, "=== harness: start #%d at %s: casare %s\n",
		n.starts, time.Now().Format(time.RFC3339Nano), strings.Join(n.args, " "))
	argv := append(slices.Clone(n.wrap), casareBin)
	argv = append(argv, n.args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = n.dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		n.tb.Fatalf("start %s: %v", n.name, err)
	}
	exited := make(chan struct{})
	n.mu.Lock()
	n.proc, n.exited, n.state = cmd.Process, exited, nil
	n.mu.Unlock()
	deadline := time.AfterFunc(processLifetime, func() { cmd.Process.Kill() })
	go func() {
		cmd.Wait()
		deadline.Stop()
		logFile.Close()
		n.mu.Lock()
		n.state = cmd.ProcessState
		n.mu.Unlock()
		close(exited)
	}()
}

// restart starts the node again with the same command line and waits
// until it is ready.
func (n *node) restart() {
	n.tb.Helper()
	n.start()
	n.waitReady()
}

func (n *node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc != nil && !isClosed(n.exited)
}

func (n *node) current() (*os.Process, chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.proc, n.exited
}

// signal sends sig to the running process.
func (n *node) signal(sig os.Signal) {
	n.tb.Helper()
	proc, exited := n.current()
	if proc == nil || isClosed(exited) {
		n.tb.Fatalf("signal %v to %s: not running", sig, n.name)
	}
	if err := proc.Signal(sig); err != nil {
		n.tb.Fatalf("signal %v to %s: %v", sig, n.name, err)
	}
}

// kill SIGKILLs the node, as a crash or power loss would, and waits
// until the process is gone. It returns the instant of the kill.
func (n *node) kill() time.Time {
	n.tb.Helper()
	n.signal(syscall.SIGKILL)
	at := time.Now()
	n.waitExit(exitTimeout)
	return at
}

// pause freezes the process with SIGSTOP: it holds its sockets but
// answers nothing, like a host stalled by swapping or a long GC.
func (n *node) pause() { n.tb.Helper(); n.signal(syscall.SIGSTOP) }

// resume continues a paused process.
func (n *node) resume() { n.tb.Helper(); n.signal(syscall.SIGCONT) }

// waitExit waits until the process has exited and returns its state.
func (n *node) waitExit(timeout time.Duration) *os.ProcessState {
	n.tb.Helper()
	_, exited := n.current()
	select {
	case <-exited:
	case <-time.After(timeout):
		n.tb.Fatalf("%s did not exit within %v", n.name, timeout)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.state
}

// killQuietly ends the process, paused or not, for cleanup.
func (n *node) killQuietly() {
	proc, exited := n.current()
	if proc == nil || isClosed(exited) {
		return
	}
	proc.Kill()
	select {
	case <-exited:
	case <-time.After(exitTimeout):
	}
}

// waitReady waits until the node can serve writes: it knows a leader.
func (n *node) waitReady() {
	n.tb.Helper()
	_, exited := n.current()
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		if isClosed(exited) {
			n.tb.Fatalf("%s exited before it was ready; log:\n%s", n.name, n.logTail())
		}
		ready, err := n.client.Ready(n.tb.Context())
		if ready {
			return
		}
		lastErr = err
		time.Sleep(pollInterval)
	}
	n.tb.Fatalf("%s not ready after %v (last error: %v)", n.name, startTimeout, lastErr)
}

// logText returns everything the node has logged so far.
func (n *node) logText() string {
	data, err := os.ReadFile(n.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	return string(data)
}

func (n *node) logTail() string {
	lines := strings.Split(strings.TrimRight(n.logText(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-logTailLines):], "\n")
}

func (n *node) dumpLog() {
	n.tb.Logf("--- last %d lines of %s's log (%s) ---\n%s", logTailLines, n.name, n.logPath, n.logTail())
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
