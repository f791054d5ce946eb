//go:build unix

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/casare/casare/api/client"
)

// procNode is one `casare node` process of the real-process bench.
type procNode struct {
	name, dir, http string
	// quic is the address of the node's gateway for internet robots.
	quic string
	// pprof is the node's profiler address ("" when not profiled).
	pprof  string
	cmd    *exec.Cmd
	client *client.Client
	// profile delivers the result of a CPU profile started with the
	// process (memory.go's restarts); nil when none runs.
	profile chan error
}

// procCluster is three (or size) real casare processes on loopback.
type procCluster struct {
	nodes   []*procNode
	clients []*client.Client
	// token is the admin token the clients send.
	token string
}

// startProcCluster starts size `casare node` processes from bin, the
// first bootstrapping, the others joining it, each with its own data dir
// and ports, robots on or off, and with profiling on, each serving
// pprof on a loopback port. A join token and an admin token that the
// nodes write into their data dirs (<data-dir>/join.token,
// <data-dir>/admin.token) are passed on when they exist.
func startProcCluster(ctx context.Context, bin, dir string, size int, robots, profiling bool, capacity int, extra ...string) (*procCluster, error) {
	c := &procCluster{}
	// All nodes' ports at once, so that no two get the same: a node binds
	// some of its ports only after it has joined, and a port picked for
	// the next node meanwhile could be one the kernel had just handed it.
	ports, err := freePorts(nodePorts * size)
	if err != nil {
		return nil, err
	}
	for i := range size {
		n, err := c.startNode(ctx, bin, dir, i, ports[nodePorts*i:nodePorts*(i+1)], robots, profiling, capacity, extra)
		if err != nil {
			c.close()
			return nil, err
		}
		c.nodes = append(c.nodes, n)
	}
	// Every node takes the admin token of the first: they share it.
	// The first node writes it once it leads, which can be after its
	// /health answers.
	token, err := waitToken(ctx, c.nodes[0], filepath.Join(c.nodes[0].dir, "data", "admin.token"), 30*time.Second)
	if err != nil {
		c.close()
		return nil, err
	}
	c.token = token
	for _, n := range c.nodes {
		n.client = client.New("http://"+n.http, client.WithHTTPClient(bearerClient(token)))
		c.clients = append(c.clients, n.client)
	}
	if err := c.waitReady(ctx, size); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// nodePorts is how many ports a node takes: HTTP, Raft, gossip, QUIC
// and pprof.
const nodePorts = 5

func (c *procCluster) startNode(ctx context.Context, bin, dir string, i int, ports []int, robots, profiling bool, capacity int, extra []string) (*procNode, error) {
	n := &procNode{name: fmt.Sprintf("n%d", i+1), http: "127.0.0.1:" + strconv.Itoa(ports[0]), quic: "127.0.0.1:" + strconv.Itoa(ports[3])}
	n.dir = filepath.Join(dir, n.name)
	if err := os.MkdirAll(n.dir, 0o755); err != nil {
		return nil, err
	}
	args := []string{"node", "start"}
	if i > 0 {
		seed := c.nodes[0]
		args = []string{"node", "join", seed.http}
		if t := readToken(filepath.Join(seed.dir, "data", "join.token")); t != "" {
			args = append(args, "--join-token", t)
		}
	}
	args = append(args, "--name", n.name, "--data-dir", filepath.Join(n.dir, "data"), "--bind", "127.0.0.1",
		"--http-port", strconv.Itoa(ports[0]), "--raft-port", strconv.Itoa(ports[1]),
		"--gossip-port", strconv.Itoa(ports[2]), "--quic-port", strconv.Itoa(ports[3]),
		"--robot="+strconv.FormatBool(robots), "--capacity", strconv.Itoa(capacity))
	if profiling {
		n.pprof = "127.0.0.1:" + strconv.Itoa(ports[4])
		args = append(args, "--pprof", n.pprof)
	}
	args = append(args, extra...)
	logf, err := os.Create(filepath.Join(n.dir, "node.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	n.cmd = exec.Command(bin, args...)
	n.cmd.Stdout, n.cmd.Stderr, n.cmd.Dir = logf, logf, n.dir
	if err := n.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", n.name, err)
	}
	if i == 0 {
		// The joiners need the first node's API (and its join token).
		if err := waitHTTP(ctx, n, 30*time.Second); err != nil {
			stopProc(n)
			return nil, err
		}
	}
	return n, nil
}

// waitHTTP waits until a node answers /health.
func waitHTTP(ctx context.Context, n *procNode, limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if resp, err := hc.Get("http://" + n.http + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer /health within %v (log: %s)", n.name, limit, filepath.Join(n.dir, "node.log"))
}

// waitReady waits until every node reports size servers and a leader.
func (c *procCluster) waitReady(ctx context.Context, size int) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if c.ready(ctx, size) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	var tails []string
	for _, n := range c.nodes {
		tails = append(tails, fmt.Sprintf("%s's last log lines:\n%s", n.name, logTail(filepath.Join(n.dir, "node.log"), 15)))
	}
	return fmt.Errorf("cluster of %d processes not ready within a minute (logs in %s)\n%s", size, filepath.Dir(c.nodes[0].dir), strings.Join(tails, "\n"))
}

// logTail returns the last n lines of a node's log, so that an error
// says why a node is not ready even where its directory is removed
// after (a test's temporary directory).
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func (c *procCluster) ready(ctx context.Context, size int) bool {
	for _, n := range c.nodes {
		cl, err := n.client.Cluster(ctx)
		if err != nil || cl.Leader == nil || len(cl.Servers) != size {
			return false
		}
	}
	return true
}

// pids returns the nodes' process ids, for their CPU time.
func (c *procCluster) pids() []int {
	var out []int
	for _, n := range c.nodes {
		out = append(out, n.cmd.Process.Pid)
	}
	return out
}

// appliedIndex returns a reader of the first node's applied index, for
// the Raft entries a window took (0 when the node does not answer).
func (c *procCluster) appliedIndex(ctx context.Context) func() uint64 {
	return func() uint64 {
		cl, err := c.clients[0].Cluster(ctx)
		if err != nil {
			return 0
		}
		return cl.AppliedIndex
	}
}

// close stops every node: SIGTERM, then SIGKILL after a grace period.
func (c *procCluster) close() {
	for _, n := range c.nodes {
		stopProc(n)
	}
}

// stopGrace is how long a node gets to leave after SIGTERM before it is
// killed: a leave hands back jobs and leaves gossip in well under this.
const stopGrace = 10 * time.Second

func stopProc(n *procNode) {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM) // fails only if it exited, which Wait reports
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.cmd.Wait() // a node stopped by a signal exits non-zero
	}()
	select {
	case <-done:
	case <-time.After(stopGrace):
		_ = n.cmd.Process.Kill()
		<-done
	}
}

// readToken returns the token in a file that a node wrote, or "" when
// there is none (a build without API tokens).
func readToken(path string) string {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// waitToken waits until node n has written the token file at path, and
// returns "" for a build without API tokens (its API answers without).
func waitToken(ctx context.Context, n *procNode, path string, limit time.Duration) (string, error) {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if t := readToken(path); t != "" {
			return t, nil
		}
		if resp, err := hc.Get("http://" + n.http + "/api/v1/cluster"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return "", nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("no token in %s within %v", path, limit)
}

// bearerClient is an HTTP client that sends token as a bearer token,
// when there is one.
func bearerClient(token string) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// 64 clients over three nodes: keep their connections open.
	tr.MaxIdleConnsPerHost = 128
	if token == "" {
		return &http.Client{Transport: tr}
	}
	return &http.Client{Transport: bearer{token: token, next: tr}}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// procCPU returns the summed user and system CPU time of the processes.
func procCPU(pids []int) time.Duration { return procUsage(pids).cpu }

// usage is what /proc/<pid>/stat says a set of processes used.
type usage struct {
	cpu time.Duration
	// faults counts page faults, minor and major: on a virtual machine
	// each first touch of a page can cost microseconds, so a figure on
	// fresh processes pays for every page their heaps grow into.
	faults uint64
}

// procUsage sums the processes' user and system CPU time (fields 14 and
// 15 of /proc/<pid>/stat, in clock ticks of 1/100 s on Linux) and page
// faults (fields 10 and 12).
func procUsage(pids []int) usage {
	var total usage
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The command name may hold spaces; fields follow its ')'.
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		minflt, _ := strconv.ParseUint(f[7], 10, 64)
		majflt, _ := strconv.ParseUint(f[9], 10, 64)
		total.cpu += time.Duration(ut+st) * 10 * time.Millisecond
		total.faults += minflt + majflt
	}
	return total
}

// appliedEntries reads, from the first node's metrics, how many entries
// of each command it has applied; nil if the metrics cannot be read.
func (c *procCluster) appliedEntries(ctx context.Context) map[string]float64 {
	body, err := c.clients[0].Metrics(ctx)
	if err != nil {
		return nil
	}
	out := map[string]float64{}
	for _, m := range appliedEntriesLine.FindAllSubmatch(body, -1) {
		n, err := strconv.ParseFloat(string(m[2]), 64)
		if err == nil {
			out[string(m[1])] = n
		}
	}
	return out
}

var appliedEntriesLine = regexp.MustCompile(`(?m)^casare_raft_applied_entries_total\{command="([a-z_0-9]+)"\} (\S+)$`)

// entriesPerItem says how many entries of each command items cost
// between two readings of appliedEntries, most first.
func entriesPerItem(before, after map[string]float64, items int) string {
	type count struct {
		command string
		n       float64
	}
	var counts []count
	for command, n := range after {
		if d := n - before[command]; d > 0 {
			counts = append(counts, count{command, d})
		}
	}
	slices.SortFunc(counts, func(a, b count) int { return cmp.Compare(b.n, a.n) })
	parts := make([]string, len(counts))
	for i, c := range counts {
		parts[i] = fmt.Sprintf("%s %.2f", c.command, c.n/float64(max(items, 1)))
	}
	return strings.Join(parts, ", ")
}

// leaderNode is the node the first node sees leading.
func (c *procCluster) leaderNode(ctx context.Context) (*procNode, error) {
	cl, err := c.clients[0].Cluster(ctx)
	if err != nil {
		return nil, err
	}
	if cl.Leader == nil {
		return nil, fmt.Errorf("no leader known to %s", c.nodes[0].name)
	}
	for _, n := range c.nodes {
		if n.name == cl.Leader.Name {
			return n, nil
		}
	}
	return nil, fmt.Errorf("leader %q is none of the bench's processes", cl.Leader.Name)
}

// leaderName is the name of the node the first node sees leading, or "".
func (c *procCluster) leaderName(ctx context.Context) string {
	n, err := c.leaderNode(ctx)
	if err != nil {
		return ""
	}
	return n.name
}
