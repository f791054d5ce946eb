package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/robot"
)

// newToken stores a robot token in the cluster and returns its secret
// form, as `casare robot token create` prints it.
func newToken(t *testing.T, n *Node, name string) string {
	t.Helper()
	return newTokenNamed(t, n, name)
}

func newTokenTB(tb testing.TB, n *Node) string { return newTokenNamed(tb, n, "") }

func newTokenNamed(t testing.TB, n *Node, name string) string {
	return newTokenFor(t, n, consensus.CreateTokenCmd{Name: name})
}

// newTokenFor stores a robot token with what cmd fixes (its id and hash
// are filled in) through node n and returns its secret form, with n's
// cluster CA fingerprint.
func newTokenFor(t testing.TB, n *Node, cmd consensus.CreateTokenCmd) string {
	t.Helper()
	s := n.Store()
	buf := make([]byte, 24)
	rand.Read(buf)
	secret := base64.RawURLEncoding.EncodeToString(buf)
	cmd.ID, cmd.Hash = fmt.Sprintf("tok%d", time.Now().UnixNano()), consensus.HashToken(secret)
	if _, err := s.CreateToken(context.Background(), cmd); err != nil {
		t.Fatal(err)
	}
	return consensus.FormatRobotToken(cmd.ID, secret, n.caFingerprint())
}

// robotQueue is NewRobotQueue that fails the test on a bad token.
func robotQueue(t testing.TB, addrs []string, token string, hello tunnel.Hello) *robot.TunnelQueue {
	t.Helper()
	q, err := robot.NewTokenQueue(addrs, token, hello, nil)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func quicAddr(n *Node) string { return "127.0.0.1:" + strconv.Itoa(n.cfg.QUICPort) }

// startInternetRobot runs an internet robot in-process, as
// `casare robot connect` does, until the test ends.
func startInternetRobot(t testing.TB, addrs []string, token, name string, capacity int) *robot.TunnelQueue {
	t.Helper()
	q := robotQueue(t, addrs, token, tunnel.Hello{Name: name, Capacity: capacity})
	runRobot(t, q, q)
	return q
}

func TestInternetRobotRunsInternetJobs(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false // only the internet robot may run the job
	n := startNode(t, cfg)
	token := newToken(t, n, "")
	startInternetRobot(t, []string{quicAddr(n)}, token, "laptop-7", 2)

	c := adminClient(t, n, n)
	res, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), ExecutionMode: "internet",
	})
	if err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, res.JobID, "succeeded", 20*time.Second)
	if job.RobotID != "laptop-7" {
		t.Fatalf("job ran on %q, want the internet robot laptop-7", job.RobotID)
	}
	robots := n.Store().Robots()
	if len(robots) != 1 || robots[0].ID != "laptop-7" || !robots[0].Connected || robots[0].Node != "hub" {
		t.Fatalf("robot records %+v", robots)
	}
}

// A robot whose name or tags carry control or bidirectional characters
// is refused at the handshake and never recorded.
func TestInternetRobotWithForbiddenCharactersRefused(t *testing.T) {
	n := startNode(t, testConfig(t, "hub", ""))
	token := newToken(t, n, "")
	for name, hello := range map[string]tunnel.Hello{
		"escape in name": {Name: "vm\x1b[2J", Capacity: 1},
		"bidi in tag":    {Name: "vm", Tags: []string{"sap\u202e"}, Capacity: 1},
	} {
		t.Run(name, func(t *testing.T) {
			q := robotQueue(t, []string{quicAddr(n)}, token, hello)
			defer q.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := q.Connect(ctx); err == nil || !strings.Contains(err.Error(), "must not contain") {
				t.Fatalf("connect: err = %v, want a refusal naming the character", err)
			}
		})
	}
	if robots := n.Store().Robots(); len(robots) != 0 {
		t.Fatalf("refused robots were recorded: %+v", robots)
	}
}

func TestInternetRobotWrongTokenRefused(t *testing.T) {
	n := startNode(t, testConfig(t, "hub", ""))
	good := newToken(t, n, "bound-name")
	tokenID, _, _ := consensus.ParseToken(good)
	fp := n.caFingerprint()
	for name, tc := range map[string]struct{ token, robot string }{
		"wrong secret":  {consensus.FormatRobotToken(tokenID, "not-the-secret", fp), "bound-name"},
		"unknown token": {consensus.FormatRobotToken("nosuchtoken", "secret", fp), "x"},
	} {
		t.Run(name, func(t *testing.T) {
			q := robotQueue(t, []string{quicAddr(n)}, tc.token, tunnel.Hello{Name: tc.robot, Capacity: 1})
			defer q.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := q.Connect(ctx)
			if err == nil || !robot.IsAuthError(err) {
				t.Fatalf("connect with %s: err = %v, want an authentication refusal", name, err)
			}
		})
	}
	if robots := n.Store().Robots(); len(robots) != 0 {
		t.Fatalf("refused robots were recorded: %+v", robots)
	}
}

func TestFiftyInternetRobotsShareABurst(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	n := startNode(t, cfg)
	token := newToken(t, n, "")
	const robots, jobs = 50, 300
	for i := range robots {
		startInternetRobot(t, []string{quicAddr(n)}, token, fmt.Sprintf("pc-%02d", i), 2)
	}
	c := adminClient(t, n, n)
	ctx := context.Background()
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []api.JobRequest
	for range jobs {
		reqs = append(reqs, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "internet"})
	}
	submitted, err := c.SubmitJobs(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	ranOn := map[string]int{}
	for _, j := range submitted {
		job := waitJob(t, c, j.ID, "succeeded", 60*time.Second)
		if job.Attempt != 1 || len(job.Attempts) != 1 {
			t.Fatalf("job %s took %d attempts: %+v", job.ID, job.Attempt, job.Attempts)
		}
		ranOn[job.RobotID]++
	}
	t.Logf("%d jobs ran on %d of %d robots", jobs, len(ranOn), robots)
	if len(ranOn) < robots/2 {
		t.Fatalf("only %d robots got work: %v", len(ranOn), ranOn)
	}
}

// TestInternetRobotSurvivesItsNodeDying kills the node an internet robot
// is connected through while a job runs; the robot reconnects elsewhere,
// keeps its lease and finishes the job once.
func TestInternetRobotSurvivesItsNodeDying(t *testing.T) {
	var nodes []*Node
	for i := range 3 {
		cfg := testConfig(t, fmt.Sprintf("n%d", i+1), "")
		if i > 0 {
			cfg = joinConfig(t, fmt.Sprintf("n%d", i+1), nodes[0])
		}
		cfg.Robot = false
		nodes = append(nodes, startNode(t, cfg))
	}
	token := newToken(t, nodes[0], "")
	// Dial the third node first; the others are learned from the cluster.
	startInternetRobot(t, []string{quicAddr(nodes[2])}, token, "roamer", 1)

	const slow = `{"name":"slow","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"wait","type":"delay","config":{"duration":"4s"}},
	 {"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"wait"},{"from":"wait","to":"end"}]}`
	c := adminClient(t, nodes[0], nodes[0])
	res, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "slow", WorkflowJSON: json.RawMessage(slow), ExecutionMode: "internet",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, res.JobID, "running", 10*time.Second)
	killed := time.Now()
	nodes[2].Close() // the robot's node goes away mid-job
	t.Logf("node closed in %v", time.Since(killed))
	job := waitJob(t, c, res.JobID, "succeeded", 40*time.Second)
	t.Logf("job finished %v after the node closed", time.Since(killed))
	if job.Attempt != 1 || job.RobotID != "roamer" {
		t.Fatalf("job finished on attempt %d by %q, want attempt 1 by roamer: %+v", job.Attempt, job.RobotID, job.Attempts)
	}
	rec := map[string]consensus.RobotRecord{}
	for _, r := range nodes[0].Store().Robots() {
		rec[r.ID] = r
	}
	if r := rec["roamer"]; !r.Connected || r.Node == "n3" {
		t.Fatalf("robot record after reconnect: %+v", r)
	}
}
