package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/internal/retry"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/node/robot"
)

// errCut is what a cut-off robot gets from every call to the cluster.
var errCut = errors.New("robot cut off from the cluster")

// cuttableQueue is a real store's queue behind a link the test cuts: while
// cut, every call fails the way an unreachable leader does.
type cuttableQueue struct {
	robot.Queue
	cut atomic.Bool
}

func (q *cuttableQueue) Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	if q.cut.Load() {
		return nil, errCut
	}
	return q.Queue.Claim(ctx, cmd)
}

func (q *cuttableQueue) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	if q.cut.Load() {
		return nil, errCut
	}
	return q.Queue.Progress(ctx, cmd)
}

func (q *cuttableQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	if q.cut.Load() {
		return nil, errCut
	}
	return q.Queue.Complete(ctx, cmd)
}

func (q *cuttableQueue) HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	if q.cut.Load() {
		return nil, errCut
	}
	return q.Queue.HandBack(ctx, cmd)
}

func (q *cuttableQueue) WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error {
	if q.cut.Load() {
		retry.Sleep(ctx, 50*time.Millisecond)
		return errCut
	}
	return q.Queue.WaitWork(ctx, cmd)
}

// fenceRig is one real server node without a robot of its own, and a
// robot "r2" beside it: a real gossip member and a Robot whose queue is
// the server's store behind a cuttable link.
type fenceRig struct {
	t      *testing.T
	server *Node
	client *client.Client
	queue  *cuttableQueue
	gossip *mesh.Mesh
	marks  string // file the ticking workflow appends "node nanos" lines to
}

func newFenceRig(t *testing.T) *fenceRig {
	cfg := testConfig(t, "n1", "")
	cfg.Robot = false
	rig := &fenceRig{t: t, server: startNode(t, cfg), marks: filepath.Join(t.TempDir(), "marks")}
	rig.client = adminClient(t, rig.server, rig.server)
	rig.queue = &cuttableQueue{Queue: robot.StoreQueue{Store: rig.server.store}}
	rig.startGossip()
	r := robot.New(robot.Config{
		ID: "r2", Kind: consensus.RobotLAN, Capacity: 1,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()}),
	}, rig.queue)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()
	t.Cleanup(func() {
		rig.queue.cut.Store(true) // nothing left to report to once the test ends
		cancel()
		<-done
	})
	return rig
}

// startGossip brings r2's gossip member up (again) and waits until the
// server sees it alive.
func (rig *fenceRig) startGossip() {
	// r2 holds the cluster's gossip key, as a member that joined does.
	keys, err := mesh.NewKeyring(rig.server.id.gossipKeys)
	if err != nil {
		rig.t.Fatal(err)
	}
	m, err := mesh.New(mesh.Config{Name: "r2", BindAddr: "127.0.0.1", Meta: mesh.Meta{Roles: []string{"robot"}, Capacity: 1}, Keyring: keys})
	if err != nil {
		rig.t.Fatal(err)
	}
	rig.t.Cleanup(func() { m.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := m.Join(ctx, []string{rig.server.mesh.Addr()}); err != nil {
		rig.t.Fatalf("r2 joins gossip: %v", err)
	}
	rig.gossip = m
	rig.waitGossip("alive")
}

func (rig *fenceRig) waitGossip(want string) {
	rig.waitFor(20*time.Second, "server's gossip view of r2 is "+want, func() bool {
		state, _, _ := rig.server.mesh.MemberState("r2")
		return state == want
	})
}

func (rig *fenceRig) waitFor(timeout time.Duration, what string, cond func() bool) {
	rig.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			rig.t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// submitTicks queues a job pinned to r2 that runs ticks nodes, each
// appending its id and the time to the marks file, with gap between them.
func (rig *fenceRig) submitTicks(name string, ticks int, gap time.Duration) string {
	rig.t.Helper()
	type wfNode struct {
		ID     string         `json:"id"`
		Type   string         `json:"type"`
		Config map[string]any `json:"config,omitempty"`
	}
	nodes := []wfNode{{ID: "start", Type: "start"}}
	for i := range ticks {
		nodes = append(nodes,
			wfNode{ID: fmt.Sprintf("tick%d", i), Type: "shell", Config: map[string]any{
				// The time is the executor's, taken as it starts the node
				// (after the fence check), not the shell's: under load the
				// shell may start long after the node did.
				"command": fmt.Sprintf(`echo "%s tick%d {{ now().UnixNano() }}" >> %q`, name, i, rig.marks)}},
			wfNode{ID: fmt.Sprintf("gap%d", i), Type: "delay", Config: map[string]any{"duration": gap.String()}})
	}
	nodes = append(nodes, wfNode{ID: "end", Type: "end"})
	var conns []map[string]string
	for i := 1; i < len(nodes); i++ {
		conns = append(conns, map[string]string{"from": nodes[i-1].ID, "to": nodes[i].ID})
	}
	graph, _ := json.Marshal(map[string]any{"name": name, "nodes": nodes, "connections": conns})
	ctx := context.Background()
	wf, err := rig.client.CreateWorkflow(ctx, api.CreateWorkflowRequest{WorkflowName: name, WorkflowJSON: graph, TriggerType: "none"})
	if err != nil {
		rig.t.Fatal(err)
	}
	job, err := rig.client.SubmitJob(ctx, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: "lan", PinnedRobot: "r2"})
	if err != nil {
		rig.t.Fatal(err)
	}
	return job.ID
}

// mark is one node start the workflow wrote down.
type mark struct {
	job, node string
	at        time.Time
}

func (rig *fenceRig) readMarks() []mark {
	data, err := os.ReadFile(rig.marks)
	if err != nil && !os.IsNotExist(err) {
		rig.t.Fatal(err)
	}
	var out []mark
	for line := range strings.Lines(string(data)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		ns, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			rig.t.Fatalf("mark %q: %v", line, err)
		}
		out = append(out, mark{job: f[0], node: f[1], at: time.Unix(0, ns)})
	}
	return out
}

func (rig *fenceRig) job(id string) consensus.Job {
	j, ok, _ := rig.server.store.Job(id)
	if !ok {
		rig.t.Fatalf("job %s not found", id)
	}
	return j
}

// nodeStartSlack is how long after a node boundary the node's mark may
// be stamped: the executor checks the fence, then renders the node's
// config, which stamps it. It only widens the window the test allows,
// never the fence itself.
const nodeStartSlack = 400 * time.Millisecond

// A robot cut off from the cluster pauses its run before the leader may
// give the job to another robot: no node of the job starts after the
// last confirmed heartbeat plus FenceAfter, the requeue comes no earlier
// than RobotRequeueDelay after the cut and spends no attempt, and once
// the link is back the robot gives the stale run up, claims the job
// again and finishes it although the leader's gossip view still calls it
// dead. After its gossip member comes back, it is alive at once and its
// new job is not requeued either.
func TestCutOffRobotFencesBeforeItsJobIsRequeued(t *testing.T) {
	rig := newFenceRig(t)
	id := rig.submitTicks("long", 30, 200*time.Millisecond)
	rig.waitFor(30*time.Second, "three ticks ran", func() bool { return len(rig.readMarks()) >= 3 })

	cutAt := time.Now()
	rig.queue.cut.Store(true)
	rig.gossip.Shutdown()
	rig.waitFor(30*time.Second, "the leader requeues the cut-off robot's job", func() bool {
		return rig.job(id).State == consensus.JobQueued
	})
	j := rig.job(id)
	lost := j.Attempts[len(j.Attempts)-1]
	requeuedAt := lost.FinishedAt
	marks := rig.readMarks()
	last := marks[len(marks)-1].at
	t.Logf("cut at %s; last node started %v after the cut; requeued %v after the cut",
		cutAt.Format(time.StampMilli), last.Sub(cutAt).Round(time.Millisecond), requeuedAt.Sub(cutAt).Round(time.Millisecond))
	if fence := cutAt.Add(consensus.FenceAfter + nodeStartSlack); last.After(fence) {
		t.Errorf("a node started %v after the cut, past the fence (%v)", last.Sub(cutAt), consensus.FenceAfter)
	}
	if !last.Before(requeuedAt) {
		t.Errorf("a node started at %s, after the requeue at %s", last, requeuedAt)
	}
	if requeuedAt.Sub(cutAt) < consensus.RobotRequeueDelay {
		t.Errorf("requeued %v after the cut, before RobotRequeueDelay %v", requeuedAt.Sub(cutAt), consensus.RobotRequeueDelay)
	}
	if j.Attempt != 0 || j.RobotLosses != 1 || lost.Outcome != "robot_lost" {
		t.Errorf("after the requeue: attempt %d, robot losses %d, outcome %q; want 0, 1, robot_lost", j.Attempt, j.RobotLosses, lost.Outcome)
	}

	// The link heals; gossip does not (the member stays shut down).
	healAt := time.Now()
	rig.queue.cut.Store(false)
	done := waitStoreJob(t, rig, id, consensus.JobSucceeded, 60*time.Second)
	if state, _, _ := rig.server.mesh.MemberState("r2"); state == "alive" {
		t.Fatalf("gossip calls r2 alive; the test wants a stale dead view")
	}
	outcomes := attemptOutcomes(done)
	if !slices.Equal(outcomes, []string{"robot_lost", "succeeded"}) || done.Attempt != 1 || done.RobotID != "r2" {
		t.Errorf("job ended on %s, attempt %d, outcomes %v; want r2, 1, [robot_lost succeeded]", done.RobotID, done.Attempt, outcomes)
	}
	// The stale run gave up when told its lease was gone. Nodes it ran
	// in the cut, before the fence, had no checkpoint reach the leader and
	// run again in the new attempt; had the stale run resumed beside the
	// new one, nodes first run after the heal would run twice too.
	runs, first := map[string]int{}, map[string]time.Time{}
	for _, m := range rig.readMarks() {
		if m.job != "long" {
			continue
		}
		if runs[m.node]++; runs[m.node] == 1 {
			first[m.node] = m.at
		}
	}
	for node, n := range runs {
		if n > 2 || (n == 2 && first[node].After(healAt)) {
			t.Errorf("node %s ran %d times, first %v after the heal: the stale run did not give up", node, n, first[node].Sub(healAt))
		}
	}
	if len(runs) != 30 {
		t.Errorf("%d distinct tick nodes ran, want 30", len(runs))
	}

	// Gossip heals: r2 is alive at once, and a new job runs there for
	// longer than the requeue delay without being requeued.
	rig.startGossip()
	id2 := rig.submitTicks("after", 10, 400*time.Millisecond)
	done2 := waitStoreJob(t, rig, id2, consensus.JobSucceeded, 60*time.Second)
	if outcomes := attemptOutcomes(done2); !slices.Equal(outcomes, []string{"succeeded"}) {
		t.Errorf("job after the heal: outcomes %v, want [succeeded]", outcomes)
	}
}

// A cut shorter than the requeue delay pauses the run at a node boundary
// and it resumes under the same lease once a heartbeat gets through: a
// leader election or blip costs time, not the job's work.
func TestFencedRunPausesAtNodeBoundaryAndResumes(t *testing.T) {
	rig := newFenceRig(t)
	id := rig.submitTicks("blip", 20, 150*time.Millisecond)
	rig.waitFor(30*time.Second, "three ticks ran", func() bool { return len(rig.readMarks()) >= 3 })

	cutAt := time.Now()
	rig.queue.cut.Store(true)
	// Gossip stays up: only the robot's link to the leader is gone.
	rig.waitFor(10*time.Second, "the run pauses", func() bool {
		return time.Since(cutAt) > consensus.FenceAfter+time.Second
	})
	paused := len(rig.readMarks())
	time.Sleep(time.Second) // the pause must hold, not just be observed once
	if n := len(rig.readMarks()); n != paused {
		t.Fatalf("%d nodes started while the robot was fenced", n-paused)
	}
	healAt := time.Now()
	rig.queue.cut.Store(false)
	done := waitStoreJob(t, rig, id, consensus.JobSucceeded, 60*time.Second)

	var during, after int
	for _, m := range rig.readMarks() {
		switch {
		case m.at.After(cutAt.Add(consensus.FenceAfter+nodeStartSlack)) && m.at.Before(healAt):
			during++
		case m.at.After(healAt):
			after++
		}
	}
	t.Logf("cut %v; nodes started inside the fence: %d; after the heal: %d", healAt.Sub(cutAt).Round(time.Millisecond), during, after)
	if during != 0 || after == 0 {
		t.Errorf("%d nodes started inside the fence and %d after the heal; want 0 and some", during, after)
	}
	if done.Attempt != 1 || len(done.Attempts) != 1 || done.RobotLosses != 0 {
		t.Errorf("job ended with attempt %d, %d attempts, %d robot losses; want one attempt, no loss", done.Attempt, len(done.Attempts), done.RobotLosses)
	}
	if ticks := len(rig.readMarks()); ticks != 20 {
		t.Errorf("%d tick nodes ran, want each of the 20 once: the resumed run repeated or skipped work", ticks)
	}
}

func waitStoreJob(t *testing.T, rig *fenceRig, id string, want consensus.JobState, timeout time.Duration) consensus.Job {
	t.Helper()
	var j consensus.Job
	rig.waitFor(timeout, fmt.Sprintf("job %s %s", id, want), func() bool {
		j = rig.job(id)
		if j.State.Terminal() && j.State != want {
			t.Fatalf("job %s ended %s (%s), want %s; attempts %v", id, j.State, j.Error, want, attemptOutcomes(j))
		}
		return j.State == want
	})
	return j
}

func attemptOutcomes(j consensus.Job) []string {
	var out []string
	for _, a := range j.Attempts {
		out = append(out, a.Outcome)
	}
	return out
}
