package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"

	"github.com/casare/casare/internal/testutil"
)

func testConfig(t testing.TB, name, join string) Config {
	p := testutil.FreePorts(t, 4)
	return Config{
		Name: name, DataDir: t.TempDir(), HTTPPort: p[0], RaftPort: p[1], GossipPort: p[2], QUICPort: p[3],
		Join: join, Server: true, Robot: true, Capacity: 4, WorkDir: t.TempDir(),
	}
}

// joinConfig is a node that joins seed's cluster with the join token seed
// holds, as `casare node join` with the first node's join.token does.
func joinConfig(t testing.TB, name string, seed *Node) Config {
	cfg := testConfig(t, name, seed.HTTPAddr())
	cfg.JoinToken = seed.JoinToken()
	if cfg.JoinToken == "" {
		t.Fatalf("seed %s holds no join token (robot-only?)", seed.cfg.Name)
	}
	return cfg
}

func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// adminClient is a client of node n's API with the admin token that the
// cluster's bootstrapping node boot wrote at its first start.
func adminClient(t testing.TB, n, boot *Node) *client.Client {
	t.Helper()
	return client.New("http://"+n.HTTPAddr(), client.WithToken(adminToken(t, boot)))
}

// adminToken is the admin token the bootstrapping node boot wrote.
func adminToken(t testing.TB, boot *Node) string {
	t.Helper()
	token, err := os.ReadFile(filepath.Join(boot.cfg.DataDir, AdminTokenFile))
	if err != nil {
		t.Fatalf("read the admin token of %s: %v", boot.cfg.Name, err)
	}
	return strings.TrimSpace(string(token))
}

const echoWorkflow = `{"name":"echo","nodes":[
 {"id":"start","type":"start"},
 {"id":"set","type":"set_variable","config":{"name":"who","value":"{{ robot_id }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"set"},{"from":"set","to":"end"}]}`

func waitJob(t testing.TB, c *client.Client, id string, want string, timeout time.Duration) api.Job {
	t.Helper()
	var job api.Job
	testutil.Eventually(t, timeout, fmt.Sprintf("job %s to be %s", id, want), func() (bool, error) {
		var err error
		job, err = c.Job(context.Background(), id)
		if err != nil {
			return false, err
		}
		if job.State != want {
			return false, fmt.Errorf("job is %s (attempt %d, error %q)", job.State, job.Attempt, job.Error)
		}
		return true, nil
	})
	return job
}

func TestSingleNodeRunsSubmittedJob(t *testing.T) {
	n := startNode(t, testConfig(t, "solo", ""))
	c := adminClient(t, n, n)
	res, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), ExecutionMode: "lan",
	})
	if err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, res.JobID, "succeeded", 20*time.Second)
	var vars map[string]any
	if err := json.Unmarshal(job.Result, &vars); err != nil || vars["who"] != "solo" || vars["job_id"] != res.JobID {
		t.Fatalf("result %s (%v)", job.Result, err)
	}
}

func TestThreeNodesJoinAndServeFromAnyNode(t *testing.T) {
	n1 := startNode(t, testConfig(t, "n1", ""))
	n2 := startNode(t, joinConfig(t, "n2", n1))
	n3 := startNode(t, joinConfig(t, "n3", n2))
	ctx := context.Background()
	c3 := adminClient(t, n3, n1)
	cl, err := c3.Cluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Servers) != 3 {
		t.Fatalf("servers %+v", cl.Servers)
	}
	// Every server tells the leader the log format it reads, n3 through
	// n2's forward: without it the leader never compresses an entry.
	testutil.WaitFor(t, 10*time.Second, "every server to register its log format", func() bool {
		nodes := n1.Store().Nodes()
		for _, info := range nodes {
			if info.LogFormat != consensus.LogFormat {
				return false
			}
		}
		return len(nodes) == 3
	})
	var ids []string
	for i := range 10 {
		res, err := c3.CreateWorkflow(ctx, api.CreateWorkflowRequest{
			WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), ExecutionMode: "lan",
			Params: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.JobID)
	}
	c1 := adminClient(t, n1, n1)
	robots := map[string]bool{}
	for _, id := range ids {
		job := waitJob(t, c1, id, "succeeded", 20*time.Second)
		robots[job.RobotID] = true
	}
	t.Logf("jobs ran on robots %v", robots)
}

func TestRobotOnlyNodeRunsJobsThroughAServer(t *testing.T) {
	srv := startNode(t, testConfig(t, "server1", ""))
	cfg := joinConfig(t, "worker", srv)
	cfg.Server = false
	worker := startNode(t, cfg)
	ctx := context.Background()
	// The worker answers the API by proxying to the server.
	c := adminClient(t, worker, srv)
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	job, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan", PinnedRobot: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	done := waitJob(t, c, job.ID, "succeeded", 30*time.Second)
	if done.RobotID != "worker" {
		t.Fatalf("job ran on %q, want the robot-only node", done.RobotID)
	}
}

// TestCancelStopsARunningJob cancels a job while its robot is in a long
// delay: the robot aborts the run, so the node after the delay never runs.
func TestCancelStopsARunningJob(t *testing.T) {
	cfg := testConfig(t, "solo", "")
	n := startNode(t, cfg)
	marker := cfg.WorkDir + "/after-delay.txt"
	wf := fmt.Sprintf(`{"name":"long","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"wait","type":"delay","config":{"duration":"4s"}},
	 {"id":"mark","type":"file_write","config":{"path":%q,"content":"ran"}},
	 {"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"wait"},{"from":"wait","to":"mark"},{"from":"mark","to":"end"}]}`, marker)
	c := adminClient(t, n, n)
	ctx := context.Background()
	res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{WorkflowName: "long", WorkflowJSON: json.RawMessage(wf)})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, res.JobID, "running", 10*time.Second)
	if _, err := c.CancelJob(ctx, res.JobID, "operator said so"); err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, res.JobID, "cancelled", time.Second)
	if job.Error != "operator said so" {
		t.Fatalf("cancelled job error %q", job.Error)
	}
	// The robot's heartbeat learns of the cancel within a report interval
	// and aborts the delay. Had it not, the marker would appear when the
	// 4 s delay ends.
	time.Sleep(5 * time.Second)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the node after the cancelled delay ran: %v", err)
	}
}
