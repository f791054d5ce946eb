package node

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/clusternet"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/pki"
)

// clusterState is what a refused join must leave as it was.
func clusterState(t *testing.T, n *Node) string {
	t.Helper()
	srvs, err := n.Store().Servers()
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, s := range srvs {
		parts = append(parts, s.Name+"@"+s.RaftAddr)
	}
	for _, m := range n.mesh.Members() {
		parts = append(parts, "member "+m.Name+" "+m.State)
	}
	return strings.Join(parts, ", ")
}

func startErr(cfg Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Start(ctx, cfg)
	if err == nil {
		n.Close()
		return errors.New("the node started")
	}
	return err
}

// TestJoinWithoutTheRightTokenChangesNothing: no token, a wrong secret,
// and a token of another cluster are each refused with ErrJoinToken and
// a message that says so; the cluster and the joiner's data dir stay as
// they were.
func TestJoinWithoutTheRightTokenChangesNothing(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	other := startNode(t, testConfig(t, "other", ""))
	before := clusterState(t, n1)
	good, err := ParseJoinToken(n1.JoinToken())
	if err != nil {
		t.Fatal(err)
	}
	wrongSecret := JoinToken{Secret: strings.Repeat("0", 64), Fingerprint: good.Fingerprint}
	for what, tc := range map[string]struct{ token, says string }{
		"no token":          {"", "no join token given"},
		"a malformed token": {"hunter2", "malformed join token"},
		"a wrong secret":    {wrongSecret.String(), "join token is wrong"},
		"another cluster's": {other.JoinToken(), "not of the cluster the join token names"},
	} {
		cfg := testConfig(t, "n2", n1.HTTPAddr())
		cfg.JoinToken = tc.token
		err := startErr(cfg)
		if !errors.Is(err, ErrJoinToken) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("join with %s: %v, want ErrJoinToken saying %q", what, err, tc.says)
		}
		if pki.PathsIn(cfg.DataDir).Exists() {
			t.Errorf("join with %s left a node certificate in the joiner's data dir", what)
		}
	}
	if after := clusterState(t, n1); after != before {
		t.Fatalf("refused joins changed the cluster:\nbefore %s\nafter  %s", before, after)
	}
}

// TestJoinUnderANameAnotherCertificateHoldsIsRefused: a second node that
// presents the join token under a member's name gets no certificate, and
// the member keeps its place in Raft.
func TestJoinUnderANameAnotherCertificateHoldsIsRefused(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	startNode(t, joinConfig(t, "n2", n1))
	before := clusterState(t, n1)
	for _, name := range []string{"n1", "n2"} {
		err := startErr(joinConfig(t, name, n1))
		if err == nil || !strings.Contains(err.Error(), "held by another member's certificate") {
			t.Errorf("join as %s: %v, want a refusal naming the held name", name, err)
		}
	}
	if after := clusterState(t, n1); after != before {
		t.Fatalf("refused joins changed the cluster:\nbefore %s\nafter  %s", before, after)
	}
}

// TestInternalEndpointsNeedANodeCertificate: the public API port serves
// no internal endpoint; the cluster port refuses a peer without a
// certificate and one from another CA, and a robot-only certificate may
// not write to Raft.
func TestInternalEndpointsNeedANodeCertificate(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	if r, err := http.Post("http://"+n1.HTTPAddr()+"/internal/v1/apply", "application/octet-stream", strings.NewReader("x")); err != nil || r.StatusCode != http.StatusNotFound {
		t.Fatalf("public port, /internal/v1/apply: %v %v, want 404", r.Status, err)
	}
	internal := func(conf func() *clusterConf) (int, error) {
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			return clusternet.Dial(ctx, addr, clusternet.KindHTTP, conf().tls)
		}}}
		r, err := hc.Post("http://"+n1.ClusterAddr()+"/internal/v1/apply", "application/octet-stream", strings.NewReader("x"))
		if err != nil {
			return 0, err
		}
		r.Body.Close()
		return r.StatusCode, nil
	}
	if status, err := internal(func() *clusterConf { return &clusterConf{pki.PinnedClientConfig(n1.Identity().Fingerprint())} }); err == nil {
		t.Errorf("cluster port without a client certificate answered %d", status)
	}
	stranger, err := pki.PathsIn(t.TempDir()).Bootstrap(pki.NodeRequest{Name: "n1", Server: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if status, err := internal(func() *clusterConf { return &clusterConf{stranger.ClientConfig()} }); err == nil {
		t.Errorf("cluster port with another CA's certificate answered %d", status)
	}
	robot := issue(t, n1, "r1", false)
	if status, err := internal(func() *clusterConf { return &clusterConf{robot.ClientConfig()} }); err != nil || status != http.StatusForbidden {
		t.Errorf("apply with a robot-only certificate: %d %v, want 403", status, err)
	}
}

type clusterConf struct{ tls *tls.Config }

// issue makes a node certificate from n's CA, as a join would.
func issue(t *testing.T, n *Node, name string, server bool) *pki.Identity {
	t.Helper()
	key, err := pki.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ca := n.Identity().CA
	cert, err := ca.Issue(&key.PublicKey, pki.NodeRequest{Name: name, Server: server}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id, err := pki.NewIdentity(&pki.CA{Cert: ca.Cert}, cert, key)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestGossipMemberWithAWrongKeyDoesNotJoin: a gossip member with another
// key, or with none, cannot join, and no member sees it.
func TestGossipMemberWithAWrongKeyDoesNotJoin(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	wrong, _ := mesh.NewGossipKey()
	kr, err := mesh.NewKeyring([][]byte{wrong})
	if err != nil {
		t.Fatal(err)
	}
	for what, ring := range map[string]any{"a wrong key": kr, "no key": nil} {
		cfg := mesh.Config{Name: "rogue", BindAddr: "127.0.0.1", Timing: mesh.LANTiming()}
		if ring != nil {
			cfg.Keyring = kr
		}
		rogue, err := mesh.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, joinErr := rogue.Join(ctx, []string{n1.mesh.Addr()})
		cancel()
		for _, m := range n1.mesh.Members() {
			if m.Name == "rogue" {
				t.Errorf("a member with %s joined gossip (%s)", what, m.State)
			}
		}
		if joinErr == nil {
			t.Errorf("a member with %s: join succeeded", what)
		}
		rogue.Shutdown()
	}
}

// TestGossipKeyRotationUnderLoadLosesNoMember rotates the key twice while
// jobs run on four members (three servers and a robot-only one): no
// member is ever seen suspect or dead, every member ends with the same
// single new key on disk, and the jobs all succeed.
func TestGossipKeyRotationUnderLoadLosesNoMember(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	n2 := startNode(t, joinConfig(t, "n2", n1))
	n3 := startNode(t, joinConfig(t, "n3", n1))
	rcfg := joinConfig(t, "r1", n1)
	rcfg.Server = false
	r1 := startNode(t, rcfg)
	nodes := []*Node{n1, n2, n3, r1}
	waitUntil(t, 30*time.Second, "every node sees four live members", func() bool {
		for _, n := range nodes {
			alive := 0
			for _, m := range n.mesh.Members() {
				if m.State == mesh.StateAlive {
					alive++
				}
			}
			if alive != 4 {
				return false
			}
		}
		return true
	})
	oldKey := keysOnDisk(t, n1)

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	lost := make(chan string, 16)
	watchDone := make(chan struct{})
	go func() { // the watcher: any member not alive on any node is a loss
		defer close(watchDone)
		for ctx.Err() == nil {
			for _, n := range nodes {
				for _, m := range n.mesh.Members() {
					if m.State != mesh.StateAlive {
						select {
						case lost <- fmt.Sprintf("%s saw %s %s", n.cfg.Name, m.Name, m.State):
						default:
						}
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	c := adminClient(t, n2, n1)
	var jobs []string
	load := make(chan error, 1)
	go func() { // the load: a job every 50 ms, on every robot
		defer close(load)
		for i := 0; ctx.Err() == nil; i++ {
			res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
				WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), ExecutionMode: "lan",
				Params: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
			})
			if err != nil {
				if ctx.Err() == nil {
					load <- err
				}
				return
			}
			jobs = append(jobs, res.JobID)
			time.Sleep(50 * time.Millisecond)
		}
	}()

	for round := range 2 {
		res, err := n3.RotateGossipKey(ctx)
		if err != nil {
			t.Fatalf("rotation %d: %v", round+1, err)
		}
		if len(res.Members) != 4 || len(res.Skipped) != 0 {
			t.Fatalf("rotation %d reached %v, skipped %v", round+1, res.Members, res.Skipped)
		}
	}
	// Failure detection needs a few probe rounds to notice a member that
	// cannot be reached; watch that long after the last switch.
	time.Sleep(3 * time.Second)
	stop()
	<-watchDone
	if err := <-load; err != nil {
		t.Fatalf("load: %v", err)
	}
	select {
	case l := <-lost:
		t.Fatalf("a member was lost during rotation: %s", l)
	default:
	}
	newKey := keysOnDisk(t, n1)
	if newKey == oldKey || strings.Count(newKey, "\n") != 1 {
		t.Fatalf("n1's gossip keys after rotation: %q (before %q), want one new key", newKey, oldKey)
	}
	for _, n := range nodes[1:] {
		if got := keysOnDisk(t, n); got != newKey {
			t.Fatalf("%s's gossip keys %q, n1's %q", n.cfg.Name, got, newKey)
		}
	}
	c1 := adminClient(t, n1, n1)
	for _, id := range jobs {
		waitJob(t, c1, id, "succeeded", 30*time.Second)
	}
	if len(jobs) < 5 {
		t.Fatalf("only %d jobs ran during the rotations", len(jobs))
	}
}

func keysOnDisk(t *testing.T, n *Node) string {
	t.Helper()
	data, err := os.ReadFile(gossipKeysPath(n.cfg.DataDir))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
