//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/node"
)

// readyTimeout bounds how long a fresh cluster may take to elect a leader
// and agree on its membership.
const readyTimeout = 60 * time.Second

// closeTimeout bounds how long the benchmark waits for a cluster to stop,
// so that a node that hangs in shutdown cannot hang the run: its
// goroutines are abandoned and go with the process.
const closeTimeout = 30 * time.Second

// cluster is a set of in-process nodes on loopback: each is a Raft server
// on TCP with the real HTTP API, and optionally runs its built-in robot.
type cluster struct {
	dir     string
	nodes   []*node.Node
	clients []*client.Client // one per node, shared by all workers
}

// startCluster bootstraps the first node and joins the others through
// it, as `casare node start` and `casare node join` do.
func startCluster(ctx context.Context, dir string, size int, robots bool, capacity int) (*cluster, error) {
	c := &cluster{dir: dir}
	for i := range size {
		ports, err := freePorts(4)
		if err != nil {
			c.close()
			return nil, err
		}
		cfg := node.Config{
			Name: fmt.Sprintf("n%d", i+1), DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1)),
			HTTPPort: ports[0], RaftPort: ports[1], GossipPort: ports[2], QUICPort: ports[3],
			Server: true, Robot: robots, Capacity: capacity, WorkDir: dir,
		}
		if i > 0 {
			cfg.Join, cfg.JoinToken = c.nodes[0].HTTPAddr(), c.nodes[0].JoinToken()
		}
		n, err := node.Start(ctx, cfg)
		if err != nil {
			c.close()
			return nil, fmt.Errorf("start %s: %w", cfg.Name, err)
		}
		c.nodes = append(c.nodes, n)
		// Every call carries the admin token n1 wrote at its first
		// start, as a real client would: the benchmark pays for the
		// auth check like users do.
		token, err := os.ReadFile(filepath.Join(dir, "n1", node.AdminTokenFile))
		if err != nil {
			c.close()
			return nil, fmt.Errorf("read the admin token: %w", err)
		}
		c.clients = append(c.clients, client.New("http://"+n.HTTPAddr(), client.WithToken(strings.TrimSpace(string(token)))))
	}
	if err := c.waitReady(ctx, size); err != nil {
		c.close()
		return nil, err
	}
	return c, nil
}

// freePorts reserves n distinct loopback TCP ports. Gossip binds UDP on
// the same number, which is free in practice on loopback.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitReady waits until there is a leader with size voters and every
// node knows the leader's HTTP address, so followers can forward.
func (c *cluster) waitReady(ctx context.Context, size int) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		if c.ready(size) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster of %d not ready: %w", size, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *cluster) ready(size int) bool {
	lead := c.leader()
	if lead == nil {
		return false
	}
	servers, err := lead.Store().Servers()
	if err != nil {
		return false
	}
	voters := 0
	for _, s := range servers {
		if s.Voter && s.HTTPAddr != "" {
			voters++
		}
	}
	if voters != size {
		return false
	}
	for _, n := range c.nodes {
		if _, ok := n.Store().Leader(); !ok {
			return false
		}
	}
	return true
}

// leader returns the node that is the Raft leader now, or nil.
func (c *cluster) leader() *node.Node {
	for _, n := range c.nodes {
		if n.Store().IsLeader() {
			return n
		}
	}
	return nil
}

// leaderClient returns the API client of the leader.
func (c *cluster) leaderClient() *client.Client {
	for i, n := range c.nodes {
		if n.Store().IsLeader() {
			return c.clients[i]
		}
	}
	return c.clients[0]
}

// close stops the followers, then the leader, so that the followers do
// not spend the shutdown electing a new one, and removes the data dirs.
func (c *cluster) close() error {
	done := make(chan error, 1)
	go func() { done <- c.stopNodes() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(closeTimeout):
		err = fmt.Errorf("nodes did not stop within %v; abandoned", closeTimeout)
	}
	err = errors.Join(err, os.RemoveAll(c.dir))
	// Flush the dead cluster's dirty pages and freed blocks now: left to
	// the kernel, their write-back would land on the next cluster's
	// fsyncs, in the middle of its figures.
	flushDisk()
	return err
}

func (c *cluster) stopNodes() error {
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	lead := c.leader()
	for _, n := range c.nodes {
		if n == lead {
			continue
		}
		wg.Go(func() {
			err := n.Close()
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		})
	}
	wg.Wait()
	if lead != nil {
		errs = append(errs, lead.Close())
	}
	return errors.Join(errs...)
}
