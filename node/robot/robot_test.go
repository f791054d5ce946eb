package robot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/internal/testutil"
)

const pauseWF = `{"name":"pause","nodes":[
 {"id":"start","type":"start"},
 {"id":"say","type":"log","config":{"message":"hello {{ job_id }}"}},
 {"id":"wait","type":"delay","config":{"duration":"{{ pause }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"say"},{"from":"say","to":"wait"},{"from":"wait","to":"end"}]}`

// faultyQueue is an in-memory Queue that fails on demand: the robot loop's
// handling of lost answers cannot be driven deterministically through
// real Raft.
type faultyQueue struct {
	mu        sync.Mutex
	claims    []consensus.ClaimedJob // handed out one per claim
	claimErrs int                    // fail this many claims first
	reqIDs    []string
	progress  []consensus.ProgressCmd
	progErrs  int
	completes []consensus.CompleteCmd
	handBacks []consensus.HandBackCmd
}

func (q *faultyQueue) HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.handBacks = append(q.handBacks, cmd)
	return make([]consensus.Ack, len(cmd.Items)), nil
}

func (q *faultyQueue) WaitWork(ctx context.Context, _ consensus.ClaimCmd) error {
	for {
		q.mu.Lock()
		n := len(q.claims)
		q.mu.Unlock()
		if n > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (q *faultyQueue) Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.reqIDs = append(q.reqIDs, cmd.RequestID)
	if q.claimErrs > 0 {
		q.claimErrs--
		return nil, errors.New("leadership lost (outcome unknown)")
	}
	if len(q.claims) == 0 {
		return nil, nil
	}
	c := q.claims[0]
	q.claims = q.claims[1:]
	return []consensus.ClaimedJob{c}, nil
}

func (q *faultyQueue) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.progErrs > 0 {
		q.progErrs--
		return nil, errors.New("leader unreachable")
	}
	q.progress = append(q.progress, cmd)
	acks := make([]consensus.Ack, len(cmd.Items))
	for i, it := range cmd.Items {
		acks[i] = consensus.Ack{JobID: it.JobID, OK: true}
	}
	return acks, nil
}

func (q *faultyQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.completes = append(q.completes, cmd)
	return make([]consensus.Ack, len(cmd.Items)), nil
}

func claimed(id string, token uint64, pause string) consensus.ClaimedJob {
	p, _ := json.Marshal(map[string]any{"pause": pause})
	return consensus.ClaimedJob{
		Job: consensus.Job{ID: id, WorkflowID: "w", WorkflowVersion: 1, Attempt: int(token), Params: p,
			JobRun: &consensus.JobRun{Lease: &consensus.Lease{RobotID: "r1", Token: token}}},
		Graph: json.RawMessage(pauseWF),
	}
}

// the same job claimed again (new token) while the old run still runs
// locally: the old run's cleanup deletes the new run from r.active.
func TestReclaimedJobReplacesItsOldRun(t *testing.T) {
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 1, "300ms"), claimed("J", 2, "3s")}}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 2, ReportInterval: 100 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	// The new run (token 2, 3 s) replaced the old one at once; heartbeats
	// carry only runs the robot tracks, so three of them for token 2 show
	// the old run's end did not untrack it.
	testutil.WaitFor(t, 2500*time.Millisecond, "three heartbeats of J under token 2", func() bool {
		return heartbeats(q, "J", 2) >= 3
	})
	r.mu.Lock()
	_, tracked := r.active["J"]
	n := len(r.active)
	r.mu.Unlock()
	q.mu.Lock()
	var lastTokens []uint64
	if len(q.progress) > 0 {
		for _, it := range q.progress[len(q.progress)-1].Items {
			lastTokens = append(lastTokens, it.Token)
		}
	}
	np := len(q.progress)
	q.mu.Unlock()
	t.Logf("active=%d tracked=%v progress batches=%d last batch tokens=%v", n, tracked, np, lastTokens)
	if !tracked {
		t.Errorf("run with token 2 is still executing but is no longer in r.active: no heartbeats (batches %d), lease will expire, slot accounting is off", np)
	}
	cancel()
	<-done
}

// A claimed job without a lease or an id, which no node of this build
// answers, is skipped with an error in the log; it does not kill the
// robot, and the jobs beside it run.
func TestClaimedJobWithoutLeaseIsSkipped(t *testing.T) {
	noLease := claimed("no-lease", 1, "1ms")
	noLease.Job.JobRun = nil
	noID := claimed("", 2, "1ms")
	q := &faultyQueue{claims: []consensus.ClaimedJob{noLease, noID, claimed("J", 3, "1ms")}}
	var logs syncBuffer
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, ReportInterval: 100 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()}), Logger: slog.New(slog.NewTextHandler(&logs, nil))}, q)
	runRobotUntil(t, r, 10*time.Second, "J to complete", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return slices.ContainsFunc(q.completes, func(c consensus.CompleteCmd) bool {
			return slices.ContainsFunc(c.Items, func(it consensus.Completion) bool { return it.JobID == "J" })
		})
	})
	if n := strings.Count(logs.String(), "cannot run"); n != 2 {
		t.Fatalf("%d errors logged for the two jobs without a lease or an id, want 2:\n%s", n, logs.String())
	}
}

// after 3 failed tries the claim loop switches to a new request id,
// so a claim that did commit can never be replayed.
func TestClaimWithUnknownOutcomeKeepsItsRequestID(t *testing.T) {
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 1, "10ms")}, claimErrs: 4}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, ReportInterval: 100 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	runRobotUntil(t, r, 10*time.Second, "the claim to succeed after four failures", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return len(q.claims) == 0
	})
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.reqIDs) < 5 {
		t.Fatalf("%d claims, want the 4 that failed and the one that took J", len(q.reqIDs))
	}
	ids := map[string]int{}
	for _, id := range q.reqIDs {
		ids[id]++
	}
	t.Logf("request ids used: %v", q.reqIDs)
	if len(ids) > 1 {
		t.Errorf("claim with unknown outcome was abandoned: %d distinct request ids", len(ids))
	}
}

// a failed heartbeat drops the log lines / node status it carried.
func TestFailedHeartbeatKeepsWhatItCarried(t *testing.T) {
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 1, "600ms")}, progErrs: 1}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, ReportInterval: 150 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	runRobotUntil(t, r, 10*time.Second, "J's completion", q.completed)
	q.mu.Lock()
	defer q.mu.Unlock()
	found := false
	for _, p := range q.progress {
		for _, it := range p.Items {
			for _, l := range it.Logs {
				if l.NodeID == "say" {
					found = true
				}
			}
		}
	}
	for _, c := range q.completes {
		for _, it := range c.Items {
			for _, l := range it.Logs {
				if l.NodeID == "say" {
					found = true
				}
			}
		}
	}
	if !found {
		t.Errorf("the 'say' log line was taken by a heartbeat that failed and never sent again")
	}
}

// A robot told to stop hands back the jobs still running after its drain
// timeout, with their checkpoints, instead of failing them.
func TestShutdownHandsBackUnfinishedJobs(t *testing.T) {
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 1, "30s")}}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, DrainTimeout: 300 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	testutil.WaitFor(t, 10*time.Second, "J to be in its delay", func() bool { return nodeStarted(r, q, "J", "wait") })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("robot did not stop")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.completes) != 0 || len(q.handBacks) != 1 || q.handBacks[0].Items[0].JobID != "J" {
		t.Fatalf("completions %+v, hand-backs %+v: want J handed back, not completed", q.completes, q.handBacks)
	}
	var cp executor.Checkpoint
	if err := json.Unmarshal(q.handBacks[0].Items[0].Checkpoint, &cp); err != nil || !slices.Contains(cp.Completed, "say") {
		t.Fatalf("handed back without its checkpoint: %s (%v)", q.handBacks[0].Items[0].Checkpoint, err)
	}
}

// TestCheckpointIsReportedAtOnce: a checkpoint after a node with side
// effects goes to the queue right away, long before the next tick, in a
// report that carries only the run that checkpointed.
func TestCheckpointIsReportedAtOnce(t *testing.T) {
	dir := t.TempDir()
	writeThenWait := `{"name":"w","nodes":[
 {"id":"start","type":"start"},
 {"id":"write","type":"file_write","config":{"path":"` + dir + `/{{ job_id }}.txt","content":"x"}},
 {"id":"wait","type":"delay","config":{"duration":"5s"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"write"},{"from":"write","to":"wait"},{"from":"wait","to":"end"}]}`
	sideEffect := claimed("A", 1, "")
	sideEffect.Graph = json.RawMessage(writeThenWait)
	sideEffect.Job.WorkflowID = "w2" // robots cache graphs by workflow and version
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("B", 2, "5s"), sideEffect}}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 2, ReportInterval: 10 * time.Second,
		DrainTimeout: 100 * time.Millisecond, Engine: executor.NewEngine(executor.EngineOptions{WorkDir: dir})}, q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	testutil.WaitFor(t, 2*time.Second, "an early report of A's checkpoint alone (ticks every 10 s)", func() bool {
		q.mu.Lock()
		defer q.mu.Unlock()
		return slices.ContainsFunc(q.progress, func(p consensus.ProgressCmd) bool {
			return len(p.Items) == 1 && p.Items[0].JobID == "A" && p.Items[0].Checkpoint != nil
		})
	})
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, p := range q.progress {
		for _, it := range p.Items {
			if it.JobID == "B" {
				t.Errorf("an early report carried B, which has no new checkpoint: %+v", p)
			}
		}
	}
}

// syncBuffer is a log sink that tests read while the robot writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A stopping robot with running jobs says what it waits for: how many
// jobs, which, and until when; an operator's Ctrl-C does not meet
// silence.
func TestShutdownSaysWhatItWaitsFor(t *testing.T) {
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 1, "30s")}}
	var logs syncBuffer
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, DrainTimeout: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	apitest.WaitFor(t, 10*time.Second, "job J to run", func() bool { return r.activeCount() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("robot did not stop")
	}
	out := logs.String()
	for _, want := range []string{"waiting for running jobs to finish", "count=1", "jobs=[J]", "deadline=20", "drain_timeout=200ms"} {
		if !strings.Contains(out, want) {
			t.Errorf("shutdown log lacks %q:\n%s", want, out)
		}
	}
}

// runRobotUntil runs r until cond holds (or fails the test after
// timeout), then stops it and waits for Run to return.
func runRobotUntil(t *testing.T, r *Robot, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	testutil.WaitFor(t, timeout, what, cond)
}

// completed reports whether q has received a completion.
func (q *faultyQueue) completed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.completes) > 0
}
