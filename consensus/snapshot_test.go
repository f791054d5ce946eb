package consensus

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// memorySink is a raft.SnapshotSink that keeps what is written. With a
// gate, the first Write waits until the gate is closed.
type memorySink struct {
	gate    chan struct{}
	waiting chan struct{} // closed when a Write waits at the gate

	mu      sync.Mutex
	buf     bytes.Buffer
	closed  bool
	first   int // the size of the first Write
	blocked sync.Once
}

func (s *memorySink) Write(p []byte) (int, error) {
	if s.gate != nil {
		s.blocked.Do(func() {
			s.mu.Lock()
			s.first = len(p)
			s.mu.Unlock()
			close(s.waiting)
		})
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *memorySink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

func (s *memorySink) ID() string    { return "memory" }
func (s *memorySink) Cancel() error { return nil }

func (s *memorySink) bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.buf.Bytes())
}

var _ raft.SnapshotSink = (*memorySink)(nil)

// legacySnapshot is snapshotData as one flat struct, as it was before the
// snapshot writer split it into a head, the jobs and a tail.
type legacySnapshot struct {
	Version        int                     `json:"version"`
	Applied        uint64                  `json:"applied"`
	Workflows      []*Workflow             `json:"workflows"`
	Jobs           []*Job                  `json:"jobs"`
	Nodes          map[string]NodeInfo     `json:"nodes"`
	NextSeq        uint64                  `json:"next_seq"`
	QueuePaused    bool                    `json:"queue_paused,omitempty"`
	LastClaims     map[string]lastClaim    `json:"last_claims,omitempty"`
	Tokens         map[string]*RobotToken  `json:"tokens,omitempty"`
	Robots         map[string]*RobotRecord `json:"robots,omitempty"`
	Schedules      map[string]*Schedule    `json:"schedules,omitempty"`
	Deletions      map[string]Deletion     `json:"deletions,omitempty"`
	Drained        map[string]bool         `json:"drained,omitempty"`
	Secrets        map[string]*Secret      `json:"secrets,omitempty"`
	VaultKeyID     string                  `json:"vault_key_id,omitempty"`
	APITokens      map[string]*APIToken    `json:"api_tokens,omitempty"`
	ArchivesLogs   bool                    `json:"archives_logs,omitempty"`
	RestoreID      string                  `json:"restore_id,omitempty"`
	RestoreRequest string                  `json:"restore_request,omitempty"`
}

// legacyEncoding is what Snapshot wrote before it streamed: the whole
// state encoded at once, under the lock.
func legacyEncoding(t testing.TB, f *fsm) []byte {
	t.Helper()
	var data []byte
	var err error
	f.read(func(s *state) {
		d := s.snapshot()
		data, err = encodeJSON(legacySnapshot{
			Version: d.Version, Applied: f.applied, Workflows: d.Workflows, Jobs: d.Jobs,
			Nodes: d.Nodes, NextSeq: d.NextSeq, QueuePaused: d.QueuePaused, LastClaims: d.LastClaims,
			Tokens: d.Tokens, Robots: d.Robots, Schedules: d.Schedules, Deletions: d.Deletions, Drained: d.Drained,
			Secrets: d.Secrets, VaultKeyID: d.VaultKeyID, APITokens: d.APITokens, ArchivesLogs: d.ArchivesLogs, RestoreID: d.RestoreID,
			RestoreRequest: d.RestoreRequest,
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func snapshotBytes(t testing.TB, f *fsm) []byte {
	t.Helper()
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	var sink memorySink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	return sink.bytes()
}

// everyJobState builds a state with jobs in every state and in the
// middle of every kind of run: leased, logging, paused in a debugger,
// sealed parameters, retried, finished each way.
func everyJobState(t testing.TB) *fsmHarness {
	h := newQueueHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w2", Name: "b", Graph: graph("b")})
	specs := []JobSpec{{ID: "d1", Debug: &DebugOptions{Breakpoints: []string{"start"}}}}
	for _, id := range []string{"r1", "r2", "r3", "r4", "r5", "s1", "f1", "k3"} {
		specs = append(specs, JobSpec{ID: id})
	}
	specs = append(specs, JobSpec{ID: "x1", MaxAttempts: 1}, JobSpec{ID: "b1", WorkflowID: "w2"})
	for i := range specs {
		specs[i].WorkflowID = cmp.Or(specs[i].WorkflowID, "w1")
		specs[i].ExecutionMode = ModeAny
	}
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: specs})
	claimed := h.claim("rA", len(specs))
	if len(claimed) != len(specs) {
		t.Fatalf("claimed %d of %d", len(claimed), len(specs))
	}
	// k1 and k2 run on robots of their own, untouched until a crash
	// report and a recall change them first.
	for _, k := range [][2]string{{"k1", "rK"}, {"k2", "rR"}} {
		h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: k[0], WorkflowID: "w1", ExecutionMode: ModeAny}}})
		h.claim(k[1], 1)
	}
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{
		{ID: "q1", WorkflowID: "w1", ExecutionMode: ModeAny}, {ID: "q2", WorkflowID: "w1", ExecutionMode: ModeAny},
		{ID: "q3", WorkflowID: "w1", ExecutionMode: ModeAny, Priority: 3}, {ID: "c1", WorkflowID: "w1", ExecutionMode: ModeAny},
		{ID: "p1", WorkflowID: "w1", ExecutionMode: ModeAny, SealedParams: &SealedParams{KeyID: "k1", Ciphertext: []byte("sealed")}},
	}})
	token := h.tokens()
	// An archive keeps r2's lines past the window until a leader without
	// one says to stop keeping them.
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{})
	lines := make([]LogLine, MaxJobLogLines+10)
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "rA", Items: []Progress{{JobID: "r2", Token: token["r2"], Logs: lines}}})
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "rA", Items: []Progress{
		{JobID: "r1", Token: token["r1"], Checkpoint: json.RawMessage(`{"at":1}`), Logs: []LogLine{{Level: "info", Message: "one"}}, NodeStatus: map[string]string{"start": "done"}},
		{JobID: "d1", Token: token["d1"], Debug: &DebugReport{Paused: true, Stop: 1, Node: "start", Reason: "breakpoint"}},
	}})
	h.complete("rA", Completion{JobID: "s1", Token: token["s1"], Succeeded: true, Result: json.RawMessage(`{"ok":true}`), Logs: []LogLine{{Message: "bye"}}})
	h.complete("rA", Completion{JobID: "f1", Token: token["f1"], Error: "no", FailureKind: FailureBusiness})
	h.mustApply(cmdReportCrash, CrashCmd{RobotID: "rA", Items: []Crash{{JobID: "x1", Token: token["x1"], Attempt: 1}}})
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "c1"})
	return h
}

// tokens returns the lease token of every running job.
func (h *fsmHarness) tokens() map[string]uint64 {
	out := map[string]uint64{}
	h.f.read(func(s *state) {
		for id, j := range s.running {
			out[id] = j.Lease.Token
		}
	})
	return out
}

// changeEveryJob applies every kind of entry that changes a job, to
// jobs that were there before.
func changeEveryJob(h *fsmHarness) {
	token := h.tokens()
	// First the entries that change a job no other entry here touched.
	h.mustApply(cmdStopKeepingLogs, StopKeepingLogsCmd{})
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "q3"})
	h.claim("rQ", 1) // q1
	h.mustApply(cmdReportCrash, CrashCmd{RobotID: "rK", Items: []Crash{{JobID: "k1", Token: token["k1"], Attempt: 1}}})
	h.mustApply(cmdRecallJobs, RecallJobsCmd{RobotID: "rR"})
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "k3"})
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "rA", Items: []Progress{
		{JobID: "r1", Token: token["r1"], Checkpoint: json.RawMessage(`{"at":2}`), Logs: []LogLine{{Message: "two"}}, NodeStatus: map[string]string{"next": "running"}},
	}})
	h.mustApply(cmdDebugJob, DebugJobCmd{JobID: "d1", Action: DebugStep, Breakpoints: []string{"next"}})
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "rA", Items: []Progress{{JobID: "d1", Token: token["d1"], Debug: &DebugReport{Paused: false, Detached: "gone"}}}})
	h.complete("rA", Completion{JobID: "r2", Token: token["r2"], Succeeded: true})
	h.complete("rA", Completion{JobID: "r3", Token: token["r3"], Error: "bad input", FailureKind: FailureBusiness})
	h.complete("rA", Completion{JobID: "r4", Token: token["r4"], Error: "crashed app"})
	h.mustApply(cmdHandBack, HandBackCmd{RobotID: "rA", Reason: "leaving", Items: []Progress{{JobID: "r5", Token: token["r5"]}}})
	h.advance(DefaultVisibilityTimeout + time.Second)
	h.mustApply(cmdExpireLeases, ExpireCmd{Items: []LeaseRef{{JobID: "r1", Token: token["r1"]}}})
	h.mustApply(cmdRobotGone, RobotGoneCmd{RobotID: "rA", Reason: "dead"})
	h.advance(avoidWindow)
	h.claim("rB", 2)
	h.mustApply(cmdRecallJobs, RecallJobsCmd{RobotID: "rB"})
	h.claim("rC", 1)
	for id, tok := range h.tokens() {
		h.mustApply(cmdReportCrash, CrashCmd{RobotID: "rC", Items: []Crash{{JobID: id, Token: tok, Attempt: 2}}})
	}
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{Lines: map[string]int{"s1": 1, "r1": 1}})
	h.mustApply(cmdRotateVault, RotateVaultCmd{KeyID: "k2", Params: []RotatedParams{{JobID: "p1", Ciphertext: []byte("resealed")}}})
	h.mustApply(cmdPause, PauseCmd{WorkflowID: "w1", Paused: true})
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a2"), Tags: []string{"t"}})
	h.mustApply(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w2", Force: true})
	h.mustApply(cmdPruneJobs, PruneJobsCmd{IDs: []string{"s1", "f1"}, Before: h.now})
	h.submit("n1", 0)
}

// checkIndexes fails unless every index holds the job the jobs map does:
// a copy made for a view must replace the original everywhere.
func checkIndexes(t *testing.T, s *state) {
	t.Helper()
	n := 0
	s.bySeq.Ascend(func(j *Job) bool {
		n++
		if s.jobs[j.ID] != j {
			t.Fatalf("bySeq holds another copy of job %s than the jobs map", j.ID)
		}
		return true
	})
	for _, tree := range []struct {
		name string
		ok   func(*Job) bool
		len  int
	}{{"queue", func(j *Job) bool { return j.State == JobQueued }, s.queue.Len()}, {"finished", func(j *Job) bool { return j.State.Terminal() }, s.finished.Len()}} {
		want := 0
		for _, j := range s.jobs {
			if tree.ok(j) {
				want++
			}
		}
		if tree.len != want {
			t.Fatalf("%s holds %d jobs, want %d", tree.name, tree.len, want)
		}
	}
	s.queue.Ascend(func(j *Job) bool {
		if s.jobs[j.ID] != j {
			t.Fatalf("queue holds another copy of job %s", j.ID)
		}
		return true
	})
	s.finished.Ascend(func(j *Job) bool {
		if s.jobs[j.ID] != j {
			t.Fatalf("finished holds another copy of job %s", j.ID)
		}
		return true
	})
	for id, j := range s.running {
		if s.jobs[id] != j || j.State != JobRunning {
			t.Fatalf("running holds another copy of job %s", id)
		}
	}
	if n != len(s.jobs) {
		t.Fatalf("bySeq holds %d jobs, the map %d", n, len(s.jobs))
	}
}

func TestSnapshotStreamEncodesAsBefore(t *testing.T) {
	for name, h := range map[string]*fsmHarness{"empty": newHarness(t), "every job state": everyJobState(t)} {
		want := legacyEncoding(t, h.f)
		got := snapshotBytes(t, h.f)
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: streamed snapshot differs from the whole-state encoding\nstreamed: %s\nbefore:   %s", name, got, want)
		}
		// An old snapshot restores to the state the new one does.
		var a, b snapshotData
		if err := json.Unmarshal(want, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.NewDecoder(bytes.NewReader(got)).Decode(&b); err != nil {
			t.Fatal(err)
		}
		sa, err := restoreState(a)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := restoreState(b)
		if err != nil {
			t.Fatal(err)
		}
		ea, _ := encodeJSON(sa.snapshot())
		eb, _ := encodeJSON(sb.snapshot())
		if !bytes.Equal(ea, eb) || a.Applied != b.Applied {
			t.Fatalf("%s: the two encodings restore to different states", name)
		}
	}
}

func TestSnapshotFieldsAreTheLegacyFields(t *testing.T) {
	names := func(v any) []string {
		var out []string
		var walk func(reflect.Type)
		walk = func(typ reflect.Type) {
			for i := range typ.NumField() {
				if f := typ.Field(i); f.Anonymous {
					walk(f.Type)
				} else {
					out = append(out, f.Tag.Get("json"))
				}
			}
		}
		walk(reflect.TypeOf(v))
		return out
	}
	if a, b := names(snapshotData{}), names(legacySnapshot{}); !reflect.DeepEqual(a, b) {
		t.Fatalf("snapshotData fields %v, legacy %v: add the field to legacySnapshot and to the test's encoding", a, b)
	}
}

// TestViewStaysWhileEveryJobChanges takes a snapshot, applies every kind
// of entry that changes a job, and only then writes the snapshot out: it
// is the state at its index, and the live state ends as it does without
// a snapshot.
func TestViewStaysWhileEveryJobChanges(t *testing.T) {
	h, control := everyJobState(t), everyJobState(t)
	want := legacyEncoding(t, h.f)
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	changeEveryJob(h)
	changeEveryJob(control)
	var sink memorySink
	if err := snap.Persist(&sink); err != nil {
		t.Fatal(err)
	}
	snap.Release()
	if got := sink.bytes(); !bytes.Equal(got, want) {
		t.Fatalf("the snapshot is not the state at its index\ngot:  %s\nwant: %s", got, want)
	}
	after, ctl := legacyEncoding(t, h.f), legacyEncoding(t, control.f)
	if bytes.Equal(after, want) {
		t.Fatal("the entries changed nothing")
	}
	if !bytes.Equal(after, ctl) {
		t.Fatalf("with a snapshot written meanwhile the state ends otherwise\nwith:    %s\nwithout: %s", after, ctl)
	}
	checkIndexes(t, h.f.state)
	if h.f.state.views != 0 {
		t.Fatalf("%d views left after Release", h.f.state.views)
	}
	// With no view left, jobs change in place again.
	var before *Job
	h.f.read(func(s *state) { before = s.jobs["n1"] })
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "n1"})
	h.f.read(func(s *state) {
		if s.jobs["n1"] != before {
			t.Fatal("a job was copied with no snapshot being written")
		}
	})
}

// TestAppliesGoOnWhileASnapshotIsWritten holds a large state's snapshot
// at its sink's first write and applies entries meanwhile: they complete
// before the encoding has gone past its first buffer, and the snapshot
// holds the state at its own index, not later.
func TestAppliesGoOnWhileASnapshotIsWritten(t *testing.T) {
	const jobs = 20000
	h := newQueueHarness(t)
	for b := range jobs / 1000 {
		specs := make([]JobSpec, 1000)
		for i := range specs {
			specs[i] = JobSpec{ID: fmt.Sprintf("j%d-%d", b, i), WorkflowID: "w1", ExecutionMode: ModeAny}
		}
		h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: specs})
	}
	h.claim("r1", 100)
	want, index := legacyEncoding(t, h.f), h.index
	snap, err := h.f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Release()
	sink := &memorySink{gate: make(chan struct{}), waiting: make(chan struct{})}
	persisted := make(chan error, 1)
	go func() { persisted <- snap.Persist(sink) }()
	<-sink.waiting
	tokens := h.tokens()
	for id, tok := range tokens {
		h.complete("r1", Completion{JobID: id, Token: tok, Succeeded: true})
	}
	h.claim("r2", 50)
	h.submit("late", 9)
	if n := len(sink.bytes()); n != 0 {
		t.Fatalf("the sink took %d bytes before its gate opened", n)
	}
	close(sink.gate)
	if err := <-persisted; err != nil {
		t.Fatal(err)
	}
	got := sink.bytes()
	if sink.first > len(got)/10 {
		t.Fatalf("the first write to the sink held %d of the snapshot's %d bytes: it was encoded before applies went on", sink.first, len(got))
	}
	if !bytes.Equal(got, want) {
		t.Fatal("the snapshot is not the state at its index")
	}
	restored := newFSM()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(got))); err != nil {
		t.Fatal(err)
	}
	if i, _ := restored.appliedIndex(); i != index || h.index <= index {
		t.Fatalf("restored at index %d, snapshot taken at %d, state now at %d", i, index, h.index)
	}
}
