package node

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/robot"
)

// A token that fixes the robot's name, tags and capacity gives it those,
// whatever it asks for: the node's record, the claims and the robot's own
// view agree.
func TestRobotTokenFixesNameTagsAndCapacity(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	n := startNode(t, cfg)
	token := newTokenFor(t, n, consensus.CreateTokenCmd{Name: "laptop-1", Tags: []string{"a", "b"}, Capacity: 2})
	q := robotQueue(t, []string{quicAddr(n)}, token, tunnel.Hello{Name: "something-else", Tags: []string{"root"}, Capacity: 50})
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	got := q.Identity()
	if got.RobotID != "laptop-1" || !slices.Equal(got.Tags, []string{"a", "b"}) || got.Capacity != 2 {
		t.Fatalf("robot identity %+v, want laptop-1 with tags a,b and capacity 2", got)
	}
	robots := n.Store().Robots()
	if len(robots) != 1 || robots[0].ID != "laptop-1" || !slices.Equal(robots[0].Tags, []string{"a", "b"}) || robots[0].Capacity != 2 {
		t.Fatalf("robot records %+v", robots)
	}
}

// An expired token is refused at the handshake with a message that says
// it expired; the robot is not recorded.
func TestExpiredRobotTokenRefused(t *testing.T) {
	n := startNode(t, testConfig(t, "hub", ""))
	token := newTokenFor(t, n, consensus.CreateTokenCmd{Name: "pc-old", TTL: consensus.Duration(time.Millisecond)})
	q := robotQueue(t, []string{quicAddr(n)}, token, tunnel.Hello{Capacity: 1})
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := q.Connect(ctx)
	if !robot.IsAuthError(err) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("connect with an expired token: err = %v, want a refusal saying it expired", err)
	}
	select {
	case <-q.Refused():
	default:
		t.Fatal("the refusal did not mark the queue refused")
	}
	if robots := n.Store().Robots(); len(robots) != 0 {
		t.Fatalf("a robot with an expired token was recorded: %+v", robots)
	}
}

// Revoking a token closes the live tunnel of the robot using it at once:
// the robot sees its connection closed as a refusal, cancels its run, and
// the job goes back to the queue without spending the attempt.
func TestRevokingATokenClosesItsTunnel(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false // only the internet robot may take the job
	n := startNode(t, cfg)
	token := newToken(t, n, "pc-9")
	q := startInternetRobot(t, []string{quicAddr(n)}, token, "pc-9", 1)
	tokenID, _, _ := consensus.ParseToken(token)

	c := adminClient(t, n, n)
	ctx := context.Background()
	wf := `{"name":"long","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"wait","type":"delay","config":{"duration":"60s"}},
	 {"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"wait"},{"from":"wait","to":"end"}]}`
	res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{WorkflowName: "long", WorkflowJSON: json.RawMessage(wf), ExecutionMode: "internet"})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, res.JobID, "running", 20*time.Second)

	revoked := time.Now()
	if _, err := c.RevokeRobotToken(ctx, tokenID); err != nil {
		t.Fatal(err)
	}
	select {
	case <-q.Refused():
	case <-time.After(5 * time.Second):
		t.Fatal("the robot's tunnel was not closed within 5 s of revoking its token")
	}
	t.Logf("tunnel closed and redial refused %s after the revocation", time.Since(revoked).Round(time.Millisecond))
	if err := q.RefusedErr(); !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("refusal %v does not say the token was revoked", err)
	}
	job := waitJob(t, c, res.JobID, "queued", 5*time.Second)
	last := job.Attempts[len(job.Attempts)-1]
	if last.Outcome != "handed_back" || job.Attempt != 0 {
		t.Fatalf("job went back with attempt %d and last attempt %+v; want it handed back, the attempt not spent", job.Attempt, last)
	}
	if conns := n.gateway.srv.Conns(); len(conns) != 0 {
		t.Fatalf("%d tunnels still open after the revocation", len(conns))
	}
}

// A robot refuses a node whose certificate is not from the cluster CA its
// token names — here the gateway of another cluster — with an error that
// says so, before it sends the token; and it refuses a token that names
// no CA at all.
func TestRobotRefusesANodeOfAnotherCluster(t *testing.T) {
	ours := startNode(t, testConfig(t, "ours", ""))
	theirs := startNode(t, testConfig(t, "theirs", ""))
	if ours.caFingerprint() == theirs.caFingerprint() {
		t.Fatal("two clusters share a CA")
	}
	token := newToken(t, ours, "pc-1")
	q := robotQueue(t, []string{quicAddr(theirs)}, token, tunnel.Hello{Capacity: 1})
	defer q.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := q.Connect(ctx)
	t.Logf("robot: %v", err)
	if !errors.Is(err, tunnel.ErrNodeNotTrusted) || !strings.Contains(err.Error(), ours.caFingerprint()) {
		t.Fatalf("connect to a node of another cluster: %v, want ErrNodeNotTrusted naming the expected CA", err)
	}
	if robots := theirs.Store().Robots(); len(robots) != 0 {
		t.Fatalf("the other cluster recorded a robot: %+v", robots)
	}

	id, secret, _ := consensus.ParseToken(token)
	if _, err := robot.NewTokenQueue([]string{quicAddr(ours)}, consensus.FormatToken(id, secret), tunnel.Hello{}, nil); err == nil ||
		!strings.Contains(err.Error(), "no cluster CA fingerprint") {
		t.Fatalf("a token without a CA fingerprint: %v", err)
	}
	// The same token reaches its own cluster.
	good := robotQueue(t, []string{quicAddr(ours)}, token, tunnel.Hello{Capacity: 1})
	defer good.Close()
	if err := good.Connect(ctx); err != nil {
		t.Fatalf("connect to the token's own cluster: %v", err)
	}
}

// A token that expires while its robot is connected closes the tunnel
// within a second or so of the expiry, as a revocation does.
func TestExpiringTokenClosesItsTunnel(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	n := startNode(t, cfg)
	const ttl = 2 * time.Second
	token := newTokenFor(t, n, consensus.CreateTokenCmd{Name: "pc-brief", TTL: consensus.Duration(ttl)})
	connected := time.Now()
	q := startInternetRobot(t, []string{quicAddr(n)}, token, "pc-brief", 1)
	select {
	case <-q.Refused():
	case <-time.After(ttl + 5*time.Second):
		t.Fatalf("the tunnel of a token with a TTL of %v was still open %v after connecting", ttl, ttl+5*time.Second)
	}
	t.Logf("tunnel shut %v after connecting with a %v token", time.Since(connected).Round(time.Millisecond), ttl)
	if err := q.RefusedErr(); !strings.Contains(err.Error(), "expired") {
		t.Fatalf("refusal %v does not say the token expired", err)
	}
}
