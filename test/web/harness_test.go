//go:build unix

package web

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
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

// Bounds on how long the harness waits; generous for a busy machine.
const (
	startTimeout = 45 * time.Second
	settle       = 30 * time.Second
	callTimeout  = 10 * time.Second
)

// node is one casare process.
type node struct {
	name   string
	dir    string
	http   string         // host:port of the API and the dashboard
	client *client.Client // authenticated with the cluster's admin token
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
}

// URL returns the node's address for path.
func (n *node) URL(path string) string { return "http://" + n.http + path }

// cluster is the set of processes one test started; all are killed when
// the test ends, and their logs printed if it failed.
type cluster struct {
	tb        testing.TB
	dir       string
	mu        sync.Mutex
	nodes     []*node
	tokenFile string // the admin token the bootstrapping node writes
	joinFile  string // the join token it writes
	seed      string
}

func newCluster(tb testing.TB) *cluster {
	c := &cluster{tb: tb, dir: tb.TempDir()}
	tb.Cleanup(func() {
		for _, n := range c.nodes {
			n.stop()
			if tb.Failed() {
				log, _ := os.ReadFile(filepath.Join(n.dir, "node.log"))
				lines := strings.Split(strings.TrimSpace(string(log)), "\n")
				tb.Logf("--- %s's log, last lines ---\n%s", n.name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
			}
		}
	})
	return c
}

// start runs `casare node start` (the first node) or `casare node join`
// with extra flags, and waits until the node knows a leader.
func (c *cluster) start(name string, extra ...string) *node {
	c.tb.Helper()
	dir := filepath.Join(c.dir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		c.tb.Fatal(err)
	}
	ports := testutil.FreePorts(c.tb, 4)
	args := []string{"node", "start"}
	if c.seed != "" {
		args = []string{"node", "join", c.seed, "--join-token-file", c.joinFile}
	}
	args = append(args, "--name", name, "--data-dir", filepath.Join(dir, "data"), "--bind", "127.0.0.1",
		"--http-port", strconv.Itoa(ports[0]), "--raft-port", strconv.Itoa(ports[1]),
		"--gossip-port", strconv.Itoa(ports[2]), "--quic-port", strconv.Itoa(ports[3]), "--log-level", "warn")
	args = append(args, extra...)
	if c.seed == "" {
		c.seed = "127.0.0.1:" + strconv.Itoa(ports[0])
		c.tokenFile = filepath.Join(dir, "data", "admin.token")
		c.joinFile = filepath.Join(dir, "data", "join.token")
	}
	logFile, err := os.Create(filepath.Join(dir, "node.log"))
	if err != nil {
		c.tb.Fatal(err)
	}
	n := &node{name: name, dir: dir, http: "127.0.0.1:" + strconv.Itoa(ports[0]), done: make(chan struct{})}
	n.client = client.New(n.URL(""), client.WithTimeout(callTimeout), proctest.WithTokenFile(c.tokenFile))
	n.cmd = exec.Command(casareBin, args...)
	n.cmd.Dir, n.cmd.Stdout, n.cmd.Stderr = dir, logFile, logFile
	if err := n.cmd.Start(); err != nil {
		logFile.Close()
		c.tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		n.cmd.Wait()
		logFile.Close()
		close(n.done)
	}()
	c.mu.Lock()
	c.nodes = append(c.nodes, n)
	c.mu.Unlock()
	testutil.Eventually(c.tb, startTimeout, name+" ready", func() (bool, error) {
		select {
		case <-n.done:
			return false, fmt.Errorf("%s exited", name)
		default:
		}
		return n.client.Ready(c.tb.Context())
	})
	return n
}

// stop kills the process and waits until it is gone.
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Kill()
	select {
	case <-n.done:
	case <-time.After(callTimeout):
	}
}

// ctx returns a context for one API call.
func ctx(tb testing.TB) context.Context {
	c, cancel := context.WithTimeout(tb.Context(), callTimeout)
	tb.Cleanup(cancel)
	return c
}
