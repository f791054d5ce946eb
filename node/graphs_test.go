package node

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/robot"
)

// graphQueue passes a robot's calls to the real queue underneath and
// notes, per claimed job, whether its graph came with it, and the graphs
// the robot fetched. lost, when set, is added to every claim's list of
// held graphs: a robot that said it held a graph it has lost since.
type graphQueue struct {
	robot.Queue // an interface: what it holds beyond Queue is hidden
	lost        []consensus.GraphRef

	mu      sync.Mutex
	carried []bool
	fetched []consensus.GraphRef
}

func (q *graphQueue) Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	cmd.Have = append(slices.Clone(cmd.Have), q.lost...)
	jobs, err := q.Queue.Claim(ctx, cmd)
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, j := range jobs {
		q.carried = append(q.carried, len(j.Graph) > 0 && string(j.Graph) != "null")
	}
	return jobs, err
}

// fetchingQueue is a graphQueue whose robot can fetch graphs, so it says
// which it holds.
type fetchingQueue struct {
	*graphQueue
	src robot.GraphSource
}

func (q fetchingQueue) Graph(ctx context.Context, ref consensus.GraphRef) (json.RawMessage, error) {
	q.mu.Lock()
	q.fetched = append(q.fetched, ref)
	q.mu.Unlock()
	return q.src.Graph(ctx, ref)
}

func (q *graphQueue) seen() ([]bool, []consensus.GraphRef) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.carried), slices.Clone(q.fetched)
}

// runGraphRobot runs a robot on q until the test ends.
func runGraphRobot(t *testing.T, id, kind string, q robot.Queue) {
	r := robot.New(robot.Config{ID: id, Kind: kind, Capacity: 1,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { stop(); wg.Wait() })
}

// runOneByOne submits n jobs of wf one after the other, each after the
// last succeeded, in mode, pinned to robot.
func runOneByOne(t *testing.T, c *client.Client, wfID, mode, robotID string, n int) {
	t.Helper()
	for range n {
		job, err := c.SubmitJob(context.Background(), api.JobRequest{WorkflowID: wfID, ExecutionMode: mode, PinnedRobot: robotID})
		if err != nil {
			t.Fatal(err)
		}
		waitJob(t, c, job.ID, "succeeded", 30*time.Second)
	}
}

func createEcho(t *testing.T, c *client.Client) (string, consensus.GraphRef) {
	t.Helper()
	wf, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	return wf.WorkflowID, consensus.GraphRef{WorkflowID: wf.WorkflowID, Version: 1}
}

// checkGraphs compares what the claims carried and what was fetched.
func checkGraphs(t *testing.T, q *graphQueue, carried []bool, fetched []consensus.GraphRef) {
	t.Helper()
	gotCarried, gotFetched := q.seen()
	if !slices.Equal(gotCarried, carried) || !slices.Equal(gotFetched, fetched) {
		t.Fatalf("claims carried graphs %v and the robot fetched %v; want %v and %v", gotCarried, gotFetched, carried, fetched)
	}
}

// An internet robot gets a version's graph with its first job only; one
// that says it holds a graph it has lost fetches it over the tunnel.
func TestInternetClaimSendsAGraphOnlyToARobotWithoutIt(t *testing.T) {
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	hub := startNode(t, cfg)
	c := adminClient(t, hub, hub)
	wfID, ref := createEcho(t, c)
	token := newToken(t, hub, "")

	tq := robotQueue(t, []string{quicAddr(hub)}, token, tunnel.Hello{Name: "laptop", Capacity: 1})
	defer tq.Close()
	cached := &graphQueue{Queue: tq}
	runGraphRobot(t, "laptop", consensus.RobotInternet, fetchingQueue{cached, tq})
	runOneByOne(t, c, wfID, consensus.RobotInternet, "laptop", 3)
	checkGraphs(t, cached, []bool{true, false, false}, nil)

	tq2 := robotQueue(t, []string{quicAddr(hub)}, token, tunnel.Hello{Name: "tablet", Capacity: 1})
	defer tq2.Close()
	lost := &graphQueue{Queue: tq2, lost: []consensus.GraphRef{ref}}
	runGraphRobot(t, "tablet", consensus.RobotInternet, fetchingQueue{lost, tq2})
	runOneByOne(t, c, wfID, consensus.RobotInternet, "tablet", 2)
	checkGraphs(t, lost, []bool{false, false}, []consensus.GraphRef{ref})
}

// The same over HTTP, for the LAN robot of a robot-only node.
func TestLANClaimSendsAGraphOnlyToARobotWithoutIt(t *testing.T) {
	hub := startNode(t, testConfig(t, "hub", ""))
	cfg := joinConfig(t, "worker", hub)
	cfg.Server, cfg.Robot = false, false // the test runs the worker's robot
	worker := startNode(t, cfg)
	c := adminClient(t, hub, hub)
	wfID, ref := createEcho(t, c)

	remote := newRemoteQueue(worker.mesh, worker.clusterHTTPClient())
	cached := &graphQueue{Queue: remote}
	runGraphRobot(t, "worker", consensus.RobotLAN, fetchingQueue{cached, remote})
	runOneByOne(t, c, wfID, consensus.RobotLAN, "worker", 3)
	checkGraphs(t, cached, []bool{true, false, false}, nil)

	// The fetch path over HTTP, called as a robot that lost the graph would.
	graph, err := remote.Graph(context.Background(), ref)
	if err != nil || !json.Valid(graph) || len(graph) < 10 {
		t.Fatalf("fetch the graph over HTTP: %q, %v", graph, err)
	}
	if _, err := remote.Graph(context.Background(), consensus.GraphRef{WorkflowID: wfID, Version: 9}); err == nil {
		t.Fatal("fetched a version that does not exist")
	}
}

// A claim that names no held graphs — a robot that predates them — gets
// every graph, over HTTP and over the tunnel alike.
func TestClaimWithoutHeldGraphsCarriesEveryGraph(t *testing.T) {
	hub := startNode(t, testConfig(t, "hub", ""))
	cfg := joinConfig(t, "worker", hub)
	cfg.Server, cfg.Robot = false, false
	worker := startNode(t, cfg)
	c := adminClient(t, hub, hub)
	wfID, _ := createEcho(t, c)

	// Only Queue's methods: no Graph, as a robot built before them.
	old := &graphQueue{Queue: newRemoteQueue(worker.mesh, worker.clusterHTTPClient())}
	runGraphRobot(t, "worker", consensus.RobotLAN, old)
	runOneByOne(t, c, wfID, consensus.RobotLAN, "worker", 2)
	checkGraphs(t, old, []bool{true, true}, nil)

	tq := robotQueue(t, []string{quicAddr(hub)}, newToken(t, hub, ""), tunnel.Hello{Name: "laptop", Capacity: 1})
	defer tq.Close()
	oldInternet := &graphQueue{Queue: tq}
	runGraphRobot(t, "laptop", consensus.RobotInternet, oldInternet)
	runOneByOne(t, c, wfID, consensus.RobotInternet, "laptop", 2)
	checkGraphs(t, oldInternet, []bool{true, true}, nil)
}

// A claim over HTTP whose held graphs do not parse is refused, naming
// the parameter, and leases nothing.
func TestClaimWithMalformedHeldGraphRefused(t *testing.T) {
	hub := startNode(t, testConfig(t, "hub", ""))
	cfg := joinConfig(t, "worker", hub)
	cfg.Server, cfg.Robot = false, false
	worker := startNode(t, cfg)
	c := adminClient(t, hub, hub)
	wfID, _ := createEcho(t, c)
	job, err := c.SubmitJob(context.Background(), api.JobRequest{WorkflowID: wfID, ExecutionMode: consensus.RobotLAN, PinnedRobot: "worker"})
	if err != nil {
		t.Fatal(err)
	}
	remote := newRemoteQueue(worker.mesh, worker.clusterHTTPClient())
	_, err = remote.Claim(context.Background(), consensus.ClaimCmd{RobotID: "worker", RobotKind: consensus.RobotLAN, Max: 1,
		Have: []consensus.GraphRef{{WorkflowID: "", Version: 1}}})
	if err == nil || !strings.Contains(err.Error(), "have") {
		t.Fatalf("claim with a malformed held graph: %v, want a refusal naming have", err)
	}
	if got, _, _ := hub.Store().Job(job.ID); got.State != consensus.JobQueued {
		t.Fatalf("job %s is %s after the refused claim, want queued", job.ID, got.State)
	}
}
