package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/gatewayproto"
	"github.com/casare/casare/node/robot"
	"github.com/casare/casare/pki"
)

// startGatewayOnly starts a node without a robot of its own, so only
// internet robots run its jobs.
func startGatewayOnly(t *testing.T) *Node {
	t.Helper()
	cfg := testConfig(t, "hub", "")
	cfg.Robot = false
	return startNode(t, cfg)
}

// dialRobot opens a bare tunnel to n as a robot named name, for tests
// that speak the gateway protocol themselves.
func dialRobot(t *testing.T, addr, token, name string) *tunnel.Conn {
	t.Helper()
	parts, err := consensus.ParseRobotToken(token)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := tunnel.Dial(ctx, addr, tunnel.ClientConfig{
		Hello:       tunnel.Hello{TokenID: parts.ID, Name: name, Capacity: 2},
		TokenSecret: parts.Secret, TLS: pki.PinnedClientConfig(parts.CAFingerprint),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close("test over") })
	return conn
}

func internetJobs(t *testing.T, c *client.Client, n int) []string {
	t.Helper()
	wf, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "echo", WorkflowJSON: json.RawMessage(echoWorkflow), TriggerType: "none",
	})
	if err != nil {
		t.Fatal(err)
	}
	reqs := make([]api.JobRequest, n)
	for i := range reqs {
		reqs[i] = api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: consensus.RobotInternet}
	}
	jobs, err := c.SubmitJobs(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	return ids
}

// The gateway says it serves MethodWork, and one work call reports a
// job's completion while it claims the next.
func TestWorkCallCompletesAndClaims(t *testing.T) {
	n := startGatewayOnly(t)
	conn := dialRobot(t, quicAddr(n), newToken(t, n, ""), "raw-1")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var info gatewayproto.ClusterInfo
	if err := conn.Call(ctx, gatewayproto.MethodCluster, struct{}{}, &info); err != nil || !info.Has(gatewayproto.FeatureWork) {
		t.Fatalf("cluster info %+v, %v: the gateway does not say it serves %q", info, err, gatewayproto.FeatureWork)
	}
	c := adminClient(t, n, n)
	ids := internetJobs(t, c, 2)

	var first gatewayproto.WorkAnswer
	req := gatewayproto.WorkRequest{Claim: gatewayproto.ClaimRequest{Max: 1, RequestID: "c1", WaitMS: 5000}}
	if err := conn.Call(ctx, gatewayproto.MethodWork, req, &first); err != nil || len(first.Jobs) != 1 {
		t.Fatalf("first work call: %+v, %v; want one job", first, err)
	}
	job := first.Jobs[0].Job
	req = gatewayproto.WorkRequest{
		Claim:    gatewayproto.ClaimRequest{Max: 1, RequestID: "c2", WaitMS: 5000},
		Complete: &consensus.CompleteCmd{RobotID: "someone-else", Items: []consensus.Completion{{JobID: job.ID, Token: job.Lease.Token, Succeeded: true}}},
	}
	var second gatewayproto.WorkAnswer
	before := n.Store().AppliedEntries()
	if err := conn.Call(ctx, gatewayproto.MethodWork, req, &second); err != nil {
		t.Fatal(err)
	}
	if len(second.Acks) != 1 || !second.Acks[0].OK || second.CompleteError != "" {
		t.Fatalf("completion with the claim: acks %+v, error %q; want it accepted (the robot id comes from the tunnel)", second.Acks, second.CompleteError)
	}
	if len(second.Jobs) != 1 || second.Jobs[0].Job.ID == job.ID {
		t.Fatalf("second work call claimed %+v, want the other job of %v", second.Jobs, ids)
	}
	// With work queued for it, the claim went with the completion, in one
	// entry.
	wantEntries(t, n, before, map[string]uint64{"robot_work": 1, "robot_reports": 0, "claim_groups": 0})
	if got := waitJob(t, c, job.ID, "succeeded", 10*time.Second); got.RobotID != "raw-1" {
		t.Fatalf("job completed for robot %q", got.RobotID)
	}

	// With no work left, the claim waits and the completion goes alone,
	// at once.
	last := second.Jobs[0].Job
	req = gatewayproto.WorkRequest{
		Claim:    gatewayproto.ClaimRequest{Max: 1, RequestID: "c3", WaitMS: 300},
		Complete: &consensus.CompleteCmd{Items: []consensus.Completion{{JobID: last.ID, Token: last.Lease.Token, Succeeded: true}}},
	}
	before = n.Store().AppliedEntries()
	var third gatewayproto.WorkAnswer
	if err := conn.Call(ctx, gatewayproto.MethodWork, req, &third); err != nil || len(third.Acks) != 1 || !third.Acks[0].OK || len(third.Jobs) != 0 {
		t.Fatalf("work call with nothing to claim: %+v, %v; want the completion accepted and no job", third, err)
	}
	wantEntries(t, n, before, map[string]uint64{"robot_work": 0, "robot_reports": 1, "claim_groups": 0})
}

// wantEntries fails t unless n applied, since before, the entries of
// each type that want names.
func wantEntries(t *testing.T, n *Node, before, want map[string]uint64) {
	t.Helper()
	after := n.Store().AppliedEntries()
	for name, w := range want {
		if got := after[name] - before[name]; got != w {
			t.Errorf("%d %s entries, want %d (before %v, after %v)", got, name, w, before, after)
		}
	}
}

// A work call that asks for compact jobs gets them, with what a robot
// needs to run and report them: the lease token it completes with.
func TestWorkCallAnswersCompactJobs(t *testing.T) {
	n := startGatewayOnly(t)
	conn := dialRobot(t, quicAddr(n), newToken(t, n, ""), "raw-4")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := adminClient(t, n, n)
	ids := internetJobs(t, c, 1)

	var ans gatewayproto.WorkAnswer
	req := gatewayproto.WorkRequest{Claim: gatewayproto.ClaimRequest{Max: 1, RequestID: "c1", WaitMS: 5000, Compact: true}}
	if err := conn.Call(ctx, gatewayproto.MethodWork, req, &ans); err != nil || len(ans.Compact) != 1 || len(ans.Jobs) != 0 {
		t.Fatalf("compact work call: %+v, %v; want one compact job and no whole one", ans, err)
	}
	w := ans.Compact[0]
	job := waitJob(t, c, ids[0], "running", 10*time.Second)
	if w.ID != job.ID || w.WorkflowID != job.WorkflowID || w.WorkflowVersion != job.WorkflowVersion || w.Attempt != job.Attempt || w.Token == 0 || len(w.Graph) == 0 {
		t.Fatalf("compact job %+v, want the fields of %+v, a lease token and the graph", w, job)
	}
	req = gatewayproto.WorkRequest{
		Claim:    gatewayproto.ClaimRequest{Max: 1, RequestID: "c2", WaitMS: 1, Compact: true},
		Complete: &consensus.CompleteCmd{Items: []consensus.Completion{{JobID: w.ID, Token: w.Token, Succeeded: true}}},
	}
	var second gatewayproto.WorkAnswer
	if err := conn.Call(ctx, gatewayproto.MethodWork, req, &second); err != nil || len(second.Acks) != 1 || !second.Acks[0].OK {
		t.Fatalf("completion under the compact job's token: %+v, %v; want it accepted", second, err)
	}
	waitJob(t, c, w.ID, "succeeded", 10*time.Second)
}

// Bodies no robot sends get a clear error and leave the connection and
// the gateway serving.
func TestWorkCallRefusesHostileBodies(t *testing.T) {
	n := startGatewayOnly(t)
	conn := dialRobot(t, quicAddr(n), newToken(t, n, ""), "raw-2")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, body := range []any{
		"not a request", []int{1, 2}, map[string]any{"claim": map[string]any{"max": 0}},
		map[string]any{"claim": map[string]any{"max": 1, "wait_ms": -1}},
		map[string]any{"claim": map[string]any{"max": 1}, "complete": map[string]any{"items": "x"}},
		nil,
	} {
		err := conn.Call(ctx, gatewayproto.MethodWork, body, nil)
		if re, ok := errors.AsType[*tunnel.RemoteError](err); !ok || re.Code != consensus.CodeInvalid {
			t.Fatalf("body %v: %v, want a remote error coded %s", body, err, consensus.CodeInvalid)
		} else {
			t.Logf("body %v: %s", body, re.Message)
		}
	}
	// A refusal of the cluster's keeps the store's code.
	err := conn.Call(ctx, gatewayproto.MethodGraph, consensus.GraphRef{WorkflowID: "wf-none", Version: 1}, nil)
	if re, ok := errors.AsType[*tunnel.RemoteError](err); !ok || re.Code != consensus.CodeNotFound {
		t.Fatalf("graph of a workflow that does not exist: %v, want a remote error coded %s", err, consensus.CodeNotFound)
	}
	err = conn.Call(ctx, "no-such-method", struct{}{}, nil)
	if re, ok := errors.AsType[*tunnel.RemoteError](err); !ok || re.Code != consensus.CodeInvalid {
		t.Fatalf("unknown method: %v, want a remote error coded %s", err, consensus.CodeInvalid)
	}
	var info gatewayproto.ClusterInfo
	if err := conn.Call(ctx, gatewayproto.MethodCluster, struct{}{}, &info); err != nil {
		t.Fatalf("the connection stopped serving after the refusals: %v", err)
	}
}

// A megabyte of empty completions, progress items or log lines is
// refused before it is decoded: decoding made the gateway allocate about
// 300 MB for each such call (CheckContainers).
func TestGatewayRefusesBodiesOfManyObjects(t *testing.T) {
	n := startGatewayOnly(t)
	conn := dialRobot(t, quicAddr(n), newToken(t, n, ""), "raw-3")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	empties := func(item string) string {
		return strings.Repeat(item+",", (1<<20-200)/(len(item)+1)-1) + item
	}
	bodies := map[string]string{
		gatewayproto.MethodWork:     `{"claim":{"max":1},"complete":{"items":[` + empties(`{}`) + `]}}`,
		gatewayproto.MethodComplete: `{"items":[{"job_id":"j","logs":[` + empties(`{}`) + `]}]}`,
		gatewayproto.MethodProgress: `{"items":[` + empties(`{}`) + `]}`,
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for method, body := range bodies {
		err := conn.Call(ctx, method, json.RawMessage(body), nil)
		if re, ok := errors.AsType[*tunnel.RemoteError](err); !ok || re.Code != consensus.CodeInvalid || !strings.Contains(re.Message, "JSON objects and arrays") {
			t.Fatalf("%s call of %d bytes of empty objects: %v, want an invalid remote error naming the JSON objects and arrays", method, len(body), err)
		}
	}
	runtime.ReadMemStats(&after)
	// The calls' own frames are a few megabytes on each side.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("the three refused calls allocated %d MB in the process, want under 64", alloc>>20)
	}
	var info gatewayproto.ClusterInfo
	if err := conn.Call(ctx, gatewayproto.MethodCluster, struct{}{}, &info); err != nil {
		t.Fatalf("the connection stopped serving after the refusals: %v", err)
	}
}

// oldRobotQueue hides that its queue can carry completions with claims:
// a robot built before MethodWork.
type oldRobotQueue struct{ robot.Queue }

// An older robot, which claims and completes in separate calls, still
// runs jobs on a gateway that serves MethodWork.
func TestOldInternetRobotOnNewGateway(t *testing.T) {
	n := startGatewayOnly(t)
	q := robotQueue(t, []string{quicAddr(n)}, newToken(t, n, ""), tunnel.Hello{Name: "old-robot", Capacity: 2})
	runRobot(t, q, oldRobotQueue{q})
	c := adminClient(t, n, n)
	for _, id := range internetJobs(t, c, 4) {
		waitJob(t, c, id, "succeeded", 20*time.Second)
	}
}

// A robot on a node that predates MethodWork (its cluster info lists no
// features, and it refuses the method) falls back to separate claim and
// completion calls and never sends it a work call.
func TestInternetRobotOnGatewayWithoutWork(t *testing.T) {
	n := startGatewayOnly(t)
	var workCalls atomic.Int64
	addr := serveGatewayAs(t, n, func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
		switch method {
		case gatewayproto.MethodWork:
			workCalls.Add(1)
			return nil, fmt.Errorf("unknown method %q", method)
		case gatewayproto.MethodCluster:
			return json.Marshal(gatewayproto.ClusterInfo{})
		}
		return n.gateway.handle(ctx, method, body)
	})
	runJobsOn(t, n, addr)
	if n := workCalls.Load(); n > 0 {
		t.Fatalf("the robot sent %d work calls to a node that does not serve them", n)
	}
}

// A robot on a node that serves MethodWork but predates compact answers
// (it ignores ClaimRequest.Compact) runs the whole jobs it is answered
// with.
func TestInternetRobotOnGatewayWithoutCompactJobs(t *testing.T) {
	n := startGatewayOnly(t)
	var asked, whole atomic.Int64
	addr := serveGatewayAs(t, n, func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
		switch method {
		case gatewayproto.MethodCluster:
			// Its features, but no address: the robot must not find
			// its way to the gateway that answers compact jobs.
			return json.Marshal(gatewayproto.ClusterInfo{Features: []string{gatewayproto.FeatureWork}})
		case gatewayproto.MethodWork:
		default:
			return n.gateway.handle(ctx, method, body)
		}
		req, err := gatewayproto.DecodeWorkRequest(body)
		if err != nil {
			return nil, err
		}
		if req.Claim.Compact {
			asked.Add(1)
		}
		req.Claim.Compact = false
		if body, err = json.Marshal(req); err != nil {
			return nil, err
		}
		out, err := n.gateway.handle(ctx, method, body)
		var ans gatewayproto.WorkAnswer
		if err == nil && json.Unmarshal(out, &ans) == nil && len(ans.Jobs) > 0 && len(ans.Compact) == 0 {
			whole.Add(1)
		}
		return out, err
	})
	runJobsOn(t, n, addr)
	if asked.Load() == 0 || whole.Load() == 0 {
		t.Fatalf("%d work calls asked for compact jobs and %d answers carried whole jobs; want both", asked.Load(), whole.Load())
	}
}

// serveGatewayAs serves n's robot tokens on a QUIC listener of its own
// whose calls handler answers, as a node of another build would, and
// returns its address.
func serveGatewayAs(t *testing.T, n *Node, handler tunnel.Handler) string {
	t.Helper()
	g := n.gateway
	srv, err := tunnel.Listen("127.0.0.1:0", tunnel.ServerConfig{
		TLSCert: n.tunnelID.Cert, TokenHash: g.tokenHash, CatchUp: g.catchUp, Authenticate: g.authenticate, Handler: handler,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = srv.Serve(ctx) })
	t.Cleanup(func() { stop(); _ = srv.Close(); wg.Wait() })
	return srv.Addr().String()
}

// runJobsOn runs a robot of this build through the gateway at addr and
// waits for four of n's internet jobs to succeed on it.
func runJobsOn(t *testing.T, n *Node, addr string) {
	t.Helper()
	q := robotQueue(t, []string{addr}, newToken(t, n, ""), tunnel.Hello{Name: "new-robot", Capacity: 2})
	runRobot(t, q, q)
	c := adminClient(t, n, n)
	for _, id := range internetJobs(t, c, 4) {
		waitJob(t, c, id, "succeeded", 20*time.Second)
	}
}

// runRobot connects q and runs a robot on queue (q, or a wrapper of it)
// until the test ends.
func runRobot(t testing.TB, q *robot.TunnelQueue, queue robot.Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := q.Connect(ctx); err != nil {
		t.Fatalf("connect robot %s: %v", q.Identity().RobotID, err)
	}
	id := q.Identity()
	r := robot.New(robot.Config{
		ID: id.RobotID, Kind: consensus.RobotInternet, Tags: id.Tags, Capacity: id.Capacity,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()}),
		Abort:  q.Refused(),
	}, queue)
	runCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(runCtx) })
	t.Cleanup(func() { stop(); wg.Wait(); q.Close() })
}
