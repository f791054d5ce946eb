package consensus

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// directForwarder reaches other in-process stores by calling them, the
// same calls the HTTP forwarder makes over the network.
type directForwarder struct {
	mu     sync.Mutex
	stores map[string]*Store // by HTTP address
	// hung holds the addresses of nodes that are cut off: a request to
	// one gets no answer until the caller gives up, as a TCP connection
	// to a host whose packets are dropped.
	hung map[string]bool
}

func (d *directForwarder) get(ctx context.Context, n NodeInfo) (*Store, error) {
	d.mu.Lock()
	s, hung := d.stores[n.HTTPAddr], d.hung[n.HTTPAddr]
	d.mu.Unlock()
	if hung {
		<-ctx.Done()
		return nil, fmt.Errorf("no answer from %s: %w", n.HTTPAddr, ctx.Err())
	}
	if s == nil {
		return nil, Unreachable(fmt.Errorf("no store at %s", n.HTTPAddr))
	}
	return s, nil
}

func (d *directForwarder) Apply(ctx context.Context, leader NodeInfo, cmd []byte) ([]byte, error) {
	s, err := d.get(ctx, leader)
	if err != nil {
		return nil, err
	}
	return s.ApplyRaw(ctx, cmd)
}

func (d *directForwarder) ReadIndex(ctx context.Context, leader NodeInfo) (uint64, error) {
	s, err := d.get(ctx, leader)
	if err != nil {
		return 0, err
	}
	if !s.IsLeader() {
		return 0, errorf(CodeNotLeader, "not leader")
	}
	return s.ReadIndex(ctx)
}

func (d *directForwarder) Join(ctx context.Context, leader NodeInfo, req JoinRequest) (JoinResponse, error) {
	s, err := d.get(ctx, leader)
	if err != nil {
		return JoinResponse{}, err
	}
	return s.Join(ctx, req)
}

func (d *directForwarder) Remove(ctx context.Context, leader NodeInfo, req RemoveRequest) (RemoveResponse, error) {
	s, err := d.get(ctx, leader)
	if err != nil {
		return RemoveResponse{}, err
	}
	if !s.IsLeader() {
		return RemoveResponse{}, errorf(CodeNotLeader, "not leader")
	}
	return s.RemoveServer(ctx, req)
}

// cut makes requests to s hang, as if its host's link were cut.
func (d *directForwarder) cut(s *Store) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hung == nil {
		d.hung = map[string]bool{}
	}
	d.hung[s.cfg.HTTPAddr] = true
}

func (d *directForwarder) drop(s *Store) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.stores, s.cfg.HTTPAddr)
}

type testCluster struct {
	t      testing.TB
	fwd    *directForwarder
	stores []*Store
}

func startCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	return startClusterWith(t, n, nil)
}

// startClusterWith starts n stores named n1…nN, letting configure adjust
// each store's Config first (nil changes nothing).
func startClusterWith(t testing.TB, n int, configure func(*Config)) *testCluster {
	t.Helper()
	c := &testCluster{t: t, fwd: &directForwarder{stores: map[string]*Store{}}}
	for i := range n {
		cfg := Config{
			Name: fmt.Sprintf("n%d", i+1), DataDir: t.TempDir(), RaftBind: "127.0.0.1:0",
			HTTPAddr: fmt.Sprintf("mem-%d", i+1), Bootstrap: i == 0, Forwarder: c.fwd,
		}
		if configure != nil {
			configure(&cfg)
		}
		s, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c.fwd.mu.Lock()
		c.fwd.stores[s.cfg.HTTPAddr] = s
		c.fwd.mu.Unlock()
		c.stores = append(c.stores, s)
		if i == 0 {
			c.waitLeader(5 * time.Second)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.stores[0].Join(ctx, JoinRequest{Name: s.cfg.Name, RaftAddr: s.cfg.RaftAdvertise, HTTPAddr: s.cfg.HTTPAddr, LogFormat: LogFormat})
		cancel()
		if err != nil {
			t.Fatalf("join %s: %v", s.cfg.Name, err)
		}
	}
	return c
}

func (c *testCluster) waitLeader(timeout time.Duration) *Store {
	c.t.Helper()
	var leader *Store
	testutil.WaitFor(c.t, timeout, "a leader that has registered itself", func() bool {
		for _, s := range c.stores {
			if _, ok := s.node(s.cfg.Name); ok && s.IsLeader() {
				leader = s
				return true
			}
		}
		return false
	})
	return leader
}

func (c *testCluster) follower() *Store {
	for _, s := range c.stores {
		if !s.IsLeader() {
			return s
		}
	}
	c.t.Fatal("no follower")
	return nil
}

func TestClusterForwardsWritesAndReadsConsistently(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	f := c.follower()
	res, err := f.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "via-follower", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j1", ExecutionMode: "lan"}}})
	if err != nil {
		t.Fatalf("write through follower: %v", err)
	}
	if res.Version != 1 || len(res.Jobs) != 1 {
		t.Fatalf("result %+v", res)
	}
	// Acknowledged means committed and applied on the leader.
	if _, ok, _ := leader.Job("j1"); !ok {
		t.Fatal("acknowledged job missing on the leader")
	}
	for _, s := range c.stores {
		if _, err := s.WaitConsistent(ctx); err != nil {
			t.Fatalf("%s consistent wait: %v", s.cfg.Name, err)
		}
		if _, ok, _ := s.Job("j1"); !ok {
			t.Fatalf("%s: consistent read misses the job", s.cfg.Name)
		}
	}
	servers, err := leader.Servers()
	if err != nil || len(servers) != 3 {
		t.Fatalf("servers %v, %v", servers, err)
	}
	for _, srv := range servers {
		if !srv.Voter || srv.HTTPAddr == "" {
			t.Fatalf("server %+v should be a registered voter", srv)
		}
	}
}

func TestClusterSurvivesLeaderLoss(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	old := c.waitLeader(5 * time.Second)
	if _, err := old.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	c.fwd.drop(old)
	old.Close()
	var rest []*Store
	for _, s := range c.stores {
		if s != old {
			rest = append(rest, s)
		}
	}
	c.stores = rest
	start := time.Now()
	leader := c.waitLeader(5 * time.Second)
	t.Logf("new leader %s after %v", leader.cfg.Name, time.Since(start))
	// A new leader holds every committed entry but applies the ones from
	// earlier terms only after committing one of its own.
	if _, err := leader.WaitConsistent(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := leader.Workflow("w1"); !ok {
		t.Fatal("acknowledged workflow lost with the old leader")
	}
	if _, err := c.follower().SubmitJobs(ctx, []JobSpec{{ID: "j2", WorkflowID: "w1", ExecutionMode: "any"}}); err != nil {
		t.Fatalf("write after failover: %v", err)
	}
}

func TestLeaveRemovesVoter(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	if err := leader.Leave(ctx); err != nil {
		t.Fatalf("leader leave: %v", err)
	}
	var rest []*Store
	for _, s := range c.stores {
		if s != leader {
			rest = append(rest, s)
		}
	}
	c.stores = rest
	next := c.waitLeader(5 * time.Second)
	servers, err := next.Servers()
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range servers {
		if srv.Name == leader.cfg.Name {
			t.Fatalf("%s still in configuration after leaving: %+v", leader.cfg.Name, servers)
		}
	}
}

// TestRecoverFromPeersFile brings back a cluster whose other servers are
// gone for good: the survivor's peers.json names only itself, and after
// a restart it leads alone with every acknowledged write intact.
func TestRecoverFromPeersFile(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.waitLeader(5*time.Second).PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "kept", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	survivor := c.stores[1]
	if _, err := survivor.WaitConsistent(ctx); err != nil {
		t.Fatal(err)
	}
	cfg := survivor.cfg
	for _, s := range c.stores {
		s.Close()
	}
	peers := fmt.Sprintf(`[{"id": %q, "address": %q, "non_voter": false}]`, cfg.Name, cfg.RaftAdvertise)
	if err := os.WriteFile(filepath.Join(cfg.DataDir, PeersFile), []byte(peers), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.RaftBind, cfg.Bootstrap = cfg.RaftAdvertise, false
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("reopen with peers.json: %v", err)
	}
	defer s.Close()
	c.stores = []*Store{s}
	c.fwd.mu.Lock()
	c.fwd.stores = map[string]*Store{cfg.HTTPAddr: s}
	c.fwd.mu.Unlock()
	c.waitLeader(10 * time.Second)
	if _, ok, _ := s.Workflow("w1"); !ok {
		t.Fatal("acknowledged workflow lost in recovery")
	}
	if _, err := s.SubmitJobs(ctx, []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: "lan"}}); err != nil {
		t.Fatalf("write after recovery: %v", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, PeersFile+".applied")); err != nil {
		t.Fatalf("peers.json not marked applied: %v", err)
	}
}
