package robot

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/internal/testutil"
)

// lostAnswerStore commits the first heartbeat that carries log lines and
// then tells the robot it failed, as a leader change or the robot's
// heartbeat timeout does to an entry that was already in the log.
type lostAnswerStore struct {
	*consensus.Store
	mu   sync.Mutex
	lost []consensus.ProgressCmd
}

func (s *lostAnswerStore) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	acks, err := s.Store.Progress(ctx, cmd)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || len(s.lost) > 0 || !carriesLines(cmd) {
		return acks, err
	}
	s.lost = append(s.lost, cmd)
	return nil, errors.New("leadership lost (outcome unknown)")
}

func (s *lostAnswerStore) lostOne() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lost) > 0
}

func carriesLines(cmd consensus.ProgressCmd) bool {
	for _, it := range cmd.Items {
		if len(it.Logs) > 0 {
			return true
		}
	}
	return false
}

// TestLinesResentAfterALostAnswerAreLoggedOnce: a heartbeat commits but
// the robot does not learn it; the robot sends its lines again and the
// job's log still holds each once.
func TestLinesResentAfterALostAnswerAreLoggedOnce(t *testing.T) {
	n := apitest.Start(t, apitest.Config{Name: "s1", Bootstrap: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.Store.PutWorkflow(ctx, consensus.PutWorkflowCmd{ID: "w", Name: "pause", Graph: []byte(pauseWF),
		Jobs: []consensus.JobSpec{{ID: "J", WorkflowID: "w", ExecutionMode: consensus.ModeAny, Params: []byte(`{"pause":"700ms"}`)}}}); err != nil {
		t.Fatal(err)
	}
	store := &lostAnswerStore{Store: n.Store}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, ReportInterval: 100 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, StoreQueue{store})
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { r.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	var job consensus.Job
	testutil.WaitFor(t, 20*time.Second, "J to succeed", func() bool {
		job, _, _ = n.Store.Job("J")
		return job.State == consensus.JobSucceeded
	})
	if !store.lostOne() {
		t.Fatal("no heartbeat with lines went out, so none had its answer lost")
	}
	said := 0
	for _, l := range job.Logs {
		if l.NodeID == "say" {
			said++
		}
	}
	if said != 1 {
		t.Fatalf("the 'say' line is in J's log %d times, want once: %+v", said, job.Logs)
	}
}

// refusingQueue answers completions as a leader does once the lease has
// gone, after failing the first fails tries as a lost answer would.
type refusingQueue struct {
	faultyQueue
	fails int
}

func (q *refusingQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.completes = append(q.completes, cmd)
	if q.fails > 0 {
		q.fails--
		return nil, errors.New("leadership lost (outcome unknown)")
	}
	acks := make([]consensus.Ack, len(cmd.Items))
	for i, it := range cmd.Items {
		acks[i] = consensus.Ack{JobID: it.JobID, Stop: true, Reason: "lease lost (stale fencing token)"}
	}
	return acks, nil
}

// TestARefusedCompletionWarnsUnlessARetryMayHaveRecordedIt: a
// completion refused on its first try lost the run's outcome, and the
// operator is warned; refused on a retry, an earlier try may have
// committed it, and the robot only notes it.
func TestARefusedCompletionWarnsUnlessARetryMayHaveRecordedIt(t *testing.T) {
	for _, tc := range []struct {
		fails int
		want  string
	}{{0, "level=WARN msg=\"completion refused: the cluster did not record"}, {1, "level=INFO msg=\"completion refused on a retry"}} {
		q := &refusingQueue{faultyQueue: faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 1, "1ms")}}, fails: tc.fails}
		var logs syncBuffer
		r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 1, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()
		testutil.WaitFor(t, 10*time.Second, "the completion's refusal to be logged", func() bool {
			return strings.Contains(logs.String(), "completion refused")
		})
		cancel()
		<-done
		if out := logs.String(); !strings.Contains(out, tc.want) {
			t.Errorf("after %d lost answers the log lacks %q:\n%s", tc.fails, tc.want, out)
		}
	}
}

// TestPutBackLinesKeepTheirNumbers: lines of a heartbeat that failed go
// out again under the numbers they had, ahead of newer lines.
func TestPutBackLinesKeepTheirNumbers(t *testing.T) {
	ru := &run{job: claimed("J", 1, "1ms").Job, status: map[string]string{}}
	say := func(msg string) { ru.onEvent(executor.Event{Kind: executor.EventLog, NodeID: "n", Message: msg}) }
	say("a")
	say("b")
	first, cp := ru.takeProgress()
	if first.LogsEnd != 2 {
		t.Fatalf("first heartbeat numbered %d, want 2", first.LogsEnd)
	}
	say("c")
	ru.giveBack(first, cp)
	again, _ := ru.takeProgress()
	if again.LogsEnd != 3 || len(again.Logs) != 3 || again.Logs[0].Message != "a" {
		t.Fatalf("resent heartbeat %+v numbered %d, want a, b, c ending at 3", again.Logs, again.LogsEnd)
	}
	ru.delivered()
	say("d")
	next, _ := ru.takeProgress()
	if next.LogsEnd != 4 || len(next.Logs) != 1 || next.Logs[0].Message != "d" {
		t.Fatalf("heartbeat after a delivered one %+v numbered %d, want d ending at 4", next.Logs, next.LogsEnd)
	}
}

// TestTheLastReportCarriesTheLinesOfAHeartbeatInFlight: a run that ends
// while a heartbeat carries its lines sends them again in its completion,
// under their numbers, so a heartbeat that then fails loses nothing and
// puts nothing back behind the last report.
func TestTheLastReportCarriesTheLinesOfAHeartbeatInFlight(t *testing.T) {
	ru := &run{job: claimed("J", 1, "1ms").Job, status: map[string]string{}}
	say := func(msg string) { ru.onEvent(executor.Event{Kind: executor.EventLog, NodeID: "n", Message: msg}) }
	say("a")
	say("b")
	inFlight, cp := ru.takeProgress()
	say("c")
	last := ru.takeFinalReport()
	var got []string
	for _, l := range last.logs {
		got = append(got, l.Message)
	}
	if last.logsEnd != 3 || strings.Join(got, ",") != "a,b,c" {
		t.Fatalf("the last report carries %q ending at %d, want a,b,c ending at 3", got, last.logsEnd)
	}
	ru.giveBack(inFlight, cp)
	if len(ru.logs) != 0 {
		t.Fatalf("the failed heartbeat put %d lines back behind the last report", len(ru.logs))
	}

	// Delivered before the run ended, the lines are not sent again.
	ru = &run{job: claimed("J", 1, "1ms").Job, status: map[string]string{}}
	say("a")
	ru.takeProgress()
	ru.delivered()
	say("b")
	if last := ru.takeFinalReport(); last.logsEnd != 2 || len(last.logs) != 1 || last.logs[0].Message != "b" {
		t.Fatalf("after a delivered heartbeat the last report carries %+v ending at %d, want b ending at 2", last.logs, last.logsEnd)
	}
}

// TestALastReportTakenWhileAHeartbeatIsMadeKeepsItsLines: the run ends
// while the heartbeat goroutine is between taking the run's lines and
// taking its debugger report; the last report must find the lines in
// flight, or a heartbeat that then fails puts them back where no report
// is left to carry them.
func TestALastReportTakenWhileAHeartbeatIsMadeKeepsItsLines(t *testing.T) {
	ru := &run{job: claimed("J", 1, "1ms").Job, status: map[string]string{},
		debug: newDebugSession(consensus.DebugOptions{}, make(chan struct{}, 1), slog.Default())}
	ru.onEvent(executor.Event{Kind: executor.EventLog, NodeID: "n", Message: "a"})
	ru.debug.mu.Lock() // holds the heartbeat at its debugger report
	type heartbeat struct {
		p  consensus.Progress
		cp *executor.Checkpoint
	}
	made := make(chan heartbeat)
	go func() {
		p, cp := ru.takeProgress()
		made <- heartbeat{p, cp}
	}()
	testutil.WaitFor(t, 5*time.Second, "the heartbeat to take the run's lines", func() bool {
		ru.mu.Lock()
		defer ru.mu.Unlock()
		return ru.logsFrom == 1
	})
	last := ru.takeFinalReport()
	ru.debug.mu.Unlock()
	hb := <-made
	ru.giveBack(hb.p, hb.cp) // the heartbeat fails
	if last.logsEnd != 1 || len(last.logs) != 1 || last.logs[0].Message != "a" {
		t.Fatalf("the last report carries %+v ending at %d, want a ending at 1 (the heartbeat had it)", last.logs, last.logsEnd)
	}
}

// TestTheLastReportCarriesTheNodeStatesOfAHeartbeatInFlight: a node
// that finished within the in-flight heartbeat's window is reported
// finished by the run's last report, or a heartbeat that then fails
// leaves it shown as running in the job.
func TestTheLastReportCarriesTheNodeStatesOfAHeartbeatInFlight(t *testing.T) {
	ru := &run{job: claimed("J", 1, "1ms").Job, status: map[string]string{}}
	ru.onEvent(executor.Event{Kind: executor.EventNodeFinished, NodeID: "n1"})
	ru.onEvent(executor.Event{Kind: executor.EventNodeStarted, NodeID: "n2"})
	inFlight, cp := ru.takeProgress()
	ru.onEvent(executor.Event{Kind: executor.EventNodeFinished, NodeID: "n2"})
	last := ru.takeFinalReport()
	ru.giveBack(inFlight, cp)
	if last.status["n1"] != "succeeded" || last.status["n2"] != "succeeded" {
		t.Fatalf("the last report says %v, want n1 and n2 succeeded", last.status)
	}
	if len(ru.status) != 0 {
		t.Fatalf("the failed heartbeat put %v back behind the last report", ru.status)
	}
}
