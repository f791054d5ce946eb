package node

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/mesh/tunnel"
)

// newToken stores a robot token in the cluster and returns its secret
// form, as `casare robot token create` prints it.
func newToken(t *testing.T, s *consensus.Store, name string) string {
	t.Helper()
	buf := make([]byte, 24)
	rand.Read(buf)
	secret := base64.RawURLEncoding.EncodeToString(buf)
	id := fmt.Sprintf("tok%d", time.Now().UnixNano())
	if _, err := s.CreateToken(context.Background(), consensus.CreateTokenCmd{ID: id, Name: name, Hash: consensus.HashToken(secret)}); err != nil {
		t.Fatal(err)
	}
	return "casare_" + id + "_" + secret
}

func quicAddr(n *Node) string { return "127.0.0.1:" + strconv.Itoa(n.cfg.QUICPort) }

// startInternetRobot runs an internet robot in-process, as
// `casare robot connect` does, until the test ends.
func startInternetRobot(t *testing.T, addrs []string, token, name string, capacity int) *TunnelQueue {
	t.Helper()
	tokenID, secret, err := tunnel.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	q := NewTunnelQueue(addrs, tunnel.ClientConfig{
		Hello: tunnel.Hello{TokenID: tokenID, Name: name, Capacity: capacity}, TokenSecret: secret,
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Connect(ctx); err != nil {
		t.Fatalf("connect robot %s: %v", name, err)
	}
	r := NewRobot(RobotConfig{
		ID: q.RobotID(), Kind: consensus.RobotInternet, Capacity: capacity,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()}),
	}, q)
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(runCtx) })
	t.Cleanup(func() { stop(); wg.Wait(); q.Close() })
	return q
}

func TestInternetRobotRunsInternetJobs(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false // only the internet robot may run the job
	n := startNode(t, cfg)
	token := newToken(t, n.Store(), "")
	startInternetRobot(t, []string{quicAddr(n)}, token, "laptop-7", 2)

	c := client.New("http://" + n.HTTPAddr())
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

func TestInternetRobotWrongTokenRefused(t *testing.T) {
	n := startNode(t, testConfig(t, "hub", ""))
	good := newToken(t, n.Store(), "bound-name")
	tokenID, _, _ := tunnel.ParseToken(good)
	for name, tc := range map[string]struct{ token, robot string }{
		"wrong secret":  {"casare_" + tokenID + "_not-the-secret", "bound-name"},
		"unknown token": {"casare_nosuchtoken_secret", "x"},
		"wrong name":    {good, "someone-else"},
	} {
		t.Run(name, func(t *testing.T) {
			id, secret, err := tunnel.ParseToken(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			q := NewTunnelQueue([]string{quicAddr(n)}, tunnel.ClientConfig{
				Hello: tunnel.Hello{TokenID: id, Name: tc.robot, Capacity: 1}, TokenSecret: secret,
			})
			defer q.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = q.Connect(ctx)
			if err == nil || !IsAuthError(err) {
				t.Fatalf("connect with %s: err = %v, want an authentication refusal", name, err)
			}
		})
	}
	if robots := n.Store().Robots(); len(robots) != 0 {
		t.Fatalf("refused robots were recorded: %+v", robots)
	}
}
