package consensus

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// fsmHarness feeds commands to an FSM as Raft would, with increasing
// indexes and a clock the test controls.
type fsmHarness struct {
	t     testing.TB
	f     *fsm
	index uint64
	now   time.Time
}

func newHarness(t testing.TB) *fsmHarness {
	return &fsmHarness{t: t, f: newFSM(), now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (h *fsmHarness) entry(typ commandType, cmd any) *raft.Log {
	buf, err := encodeCommand(typ, cmd)
	if err != nil {
		h.t.Fatal(err)
	}
	h.index++
	h.now = h.now.Add(time.Millisecond)
	stampTime(buf, h.now)
	return &raft.Log{Index: h.index, Type: raft.LogCommand, Data: buf}
}

func (h *fsmHarness) apply(typ commandType, cmd any) (any, error) {
	res := h.f.Apply(h.entry(typ, cmd)).(*applyResult)
	return res.value, res.err
}

func (h *fsmHarness) mustApply(typ commandType, cmd any) any {
	h.t.Helper()
	v, err := h.apply(typ, cmd)
	if err != nil {
		h.t.Fatalf("apply type %d: %v", typ, err)
	}
	return v
}

func graph(name string) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"name":%q,"nodes":[{"id":"start","type":"start"}]}`, name))
}

func TestPutWorkflowVersions(t *testing.T) {
	h := newHarness(t)
	r1 := h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "invoices", Graph: graph("a"), RequestID: "r1"}).(PutWorkflowResult)
	if r1.WorkflowID != "w1" || r1.Version != 1 || !r1.Created {
		t.Fatalf("first put = %+v", r1)
	}
	// Same graph again: no new version.
	r2 := h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "other", Name: "invoices", Graph: graph("a"), RequestID: "r2"}).(PutWorkflowResult)
	if r2.WorkflowID != "w1" || r2.Version != 1 || r2.Created {
		t.Fatalf("same graph put = %+v", r2)
	}
	r3 := h.mustApply(cmdPutWorkflow, PutWorkflowCmd{Name: "invoices", Graph: graph("b"), RequestID: "r3"}).(PutWorkflowResult)
	if r3.Version != 2 || !r3.Created {
		t.Fatalf("changed graph put = %+v", r3)
	}
	// A retry of r1 after r3 landed returns version 1, not a new one.
	r4 := h.mustApply(cmdPutWorkflow, PutWorkflowCmd{Name: "invoices", Graph: graph("a"), RequestID: "r1"}).(PutWorkflowResult)
	if r4.Version != 1 || r4.Created {
		t.Fatalf("retried put = %+v", r4)
	}
	if _, err := h.apply(cmdPutWorkflow, PutWorkflowCmd{ID: "x", Graph: graph("c")}); ErrorCode(err) != CodeInvalid {
		t.Fatalf("nameless put error = %v", err)
	}
}

func TestPutWorkflowWithJobIsAtomic(t *testing.T) {
	h := newHarness(t)
	_, err := h.apply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j1", ExecutionMode: "lan", Priority: 12}}})
	if ErrorCode(err) != CodeInvalid {
		t.Fatalf("bad job spec error = %v", err)
	}
	if len(h.f.state.workflows) != 0 || len(h.f.state.jobs) != 0 {
		t.Fatal("a rejected entry changed the state")
	}
	r := h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j1", ExecutionMode: "lan", Priority: 3}}}).(PutWorkflowResult)
	if len(r.Jobs) != 1 || r.Jobs[0].WorkflowVersion != 1 || r.Jobs[0].State != JobQueued {
		t.Fatalf("put with job = %+v", r)
	}
}

func TestSubmitJobsIdempotentAndUnique(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	spec := JobSpec{ID: "j1", WorkflowID: "w1", ExecutionMode: "any", UniqueKey: "invoice-7"}
	first := h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{spec}}).([]Job)
	again := h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{spec}}).([]Job)
	spec.ID = "j2"
	byKey := h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{spec}}).([]Job)
	if first[0].ID != "j1" || again[0].ID != "j1" || byKey[0].ID != "j1" || len(h.f.state.jobs) != 1 {
		t.Fatalf("jobs = %v %v %v (%d stored)", first[0].ID, again[0].ID, byKey[0].ID, len(h.f.state.jobs))
	}
	if first[0].MaxAttempts != DefaultMaxAttempts {
		t.Fatalf("max attempts = %d", first[0].MaxAttempts)
	}
	_, err := h.apply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{
		{ID: "ok", WorkflowID: "w1", ExecutionMode: "lan"},
		{ID: "bad", WorkflowID: "nope", ExecutionMode: "lan"},
	}})
	if ErrorCode(err) != CodeNotFound || h.f.state.jobs["ok"] != nil {
		t.Fatalf("batch with a bad job: err=%v, partial apply=%v", err, h.f.state.jobs["ok"] != nil)
	}
}

func TestCancelAndDelete(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j1", ExecutionMode: "lan"}, {ID: "j2", ExecutionMode: "lan"}}})
	if _, err := h.apply(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w1"}); ErrorCode(err) != CodeConflict {
		t.Fatalf("delete with queued jobs: %v", err)
	}
	j := h.mustApply(cmdCancelJob, CancelJobCmd{ID: "j1"}).(Job)
	if j.State != JobCancelled || h.f.state.queue.Len() != 1 {
		t.Fatalf("cancelled job %+v, queue %d", j, h.f.state.queue.Len())
	}
	h.mustApply(cmdCancelJob, CancelJobCmd{ID: "j1"}) // a retried cancel is fine
	if _, err := h.apply(cmdCancelJob, CancelJobCmd{ID: "zz"}); ErrorCode(err) != CodeNotFound {
		t.Fatalf("cancel unknown: %v", err)
	}
	h.mustApply(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w1", Force: true})
	if h.f.state.jobs["j2"].State != JobCancelled || len(h.f.state.workflows) != 0 || h.f.state.queue.Len() != 0 {
		t.Fatal("forced delete left work behind")
	}
}

// TestRetriedDeleteSucceeds: the apply loop resends a delete whose
// answer a leader change lost; the resend carries the same request id
// and must answer success, while a new delete of the same id is refused.
func TestRetriedDeleteSucceeds(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	h.mustApply(cmdPutSchedule, PutScheduleCmd{Schedule: Schedule{ID: "s1", WorkflowID: "w1", Cron: "@every 1m", Timezone: "UTC"}})
	for _, del := range []struct {
		typ          commandType
		first, again any
		fresh        any
	}{
		{cmdDeleteSchedule, DeleteScheduleCmd{ID: "s1", RequestID: "r1"}, DeleteScheduleCmd{ID: "s1", RequestID: "r1"}, DeleteScheduleCmd{ID: "s1", RequestID: "r2"}},
		{cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w1", RequestID: "r3"}, DeleteWorkflowCmd{ID: "w1", RequestID: "r3"}, DeleteWorkflowCmd{ID: "w1", RequestID: "r4"}},
	} {
		h.mustApply(del.typ, del.first)
		if _, err := h.apply(del.typ, del.again); err != nil {
			t.Errorf("retried %T: %v, want success", del.again, err)
		}
		if _, err := h.apply(del.typ, del.fresh); ErrorCode(err) != CodeNotFound {
			t.Errorf("new %T of a deleted id: %v, want not_found", del.fresh, err)
		}
	}
	restored, err := restoreState(h.f.state.snapshot())
	if err != nil || !restored.deletedBy("workflow/w1", "r3") || !restored.deletedBy("schedule/s1", "r1") {
		t.Fatalf("deletions lost in a snapshot: %v", err)
	}

	// Records are forgotten after deletionMemory, at the next deletion.
	h.now = h.now.Add(deletionMemory + time.Minute)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w2", Name: "b", Graph: graph("b")})
	h.mustApply(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w2", RequestID: "r5"})
	if got := len(h.f.state.deletions); got != 1 || !h.f.state.deletedBy("workflow/w2", "r5") {
		t.Errorf("after an hour: %d deletion records %v, want only w2's", got, h.f.state.deletions)
	}
}

func TestQueueOrder(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	for i, p := range []int{1, 5, 1, 9, 5} {
		h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: fmt.Sprint("j", i), WorkflowID: "w1", Priority: p, ExecutionMode: "lan"}}})
	}
	var got []string
	h.f.state.queue.Ascend(func(j *Job) bool { got = append(got, j.ID); return true })
	want := []string{"j3", "j1", "j4", "j0", "j2"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("claim order %v, want %v", got, want)
	}
}

// randomCommands builds a reproducible mix of every command type,
// including ones the FSM refuses.
func randomCommands(r *rand.Rand, n int) []func(h *fsmHarness) *raft.Log {
	var out []func(h *fsmHarness) *raft.Log
	for i := range n {
		wf := fmt.Sprint("w", r.IntN(4))
		job := fmt.Sprint("j", r.IntN(n))
		switch r.IntN(7) {
		case 0:
			g := graph(fmt.Sprint(r.IntN(3)))
			out = append(out, func(h *fsmHarness) *raft.Log {
				return h.entry(cmdPutWorkflow, PutWorkflowCmd{ID: wf, Name: wf, Graph: g, RequestID: fmt.Sprint("r", i)})
			})
		case 1, 2:
			spec := JobSpec{ID: job, WorkflowID: wf, Priority: r.IntN(10), ExecutionMode: "any", UniqueKey: fmt.Sprint("k", r.IntN(n))}
			out = append(out, func(h *fsmHarness) *raft.Log { return h.entry(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{spec}}) })
		case 3:
			out = append(out, func(h *fsmHarness) *raft.Log { return h.entry(cmdCancelJob, CancelJobCmd{ID: job}) })
		case 4:
			force := r.IntN(2) == 0
			out = append(out, func(h *fsmHarness) *raft.Log {
				return h.entry(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: wf, Force: force})
			})
		case 5:
			// The vault: sealed values under one of two keys, so that
			// some sets race a rotation and are refused.
			name, key := fmt.Sprint("S", r.IntN(3)), fmt.Sprint("k", r.IntN(2))
			out = append(out, func(h *fsmHarness) *raft.Log {
				return h.entry(cmdPutSecret, PutSecretCmd{Name: name, KeyID: key, Ciphertext: []byte("sealed-" + name), RequestID: fmt.Sprint("s", i)})
			})
		case 6:
			name, key := fmt.Sprint("S", r.IntN(3)), fmt.Sprint("k", r.IntN(2))
			if r.IntN(2) == 0 {
				out = append(out, func(h *fsmHarness) *raft.Log { return h.entry(cmdDeleteSecret, DeleteSecretCmd{Name: name}) })
				break
			}
			out = append(out, func(h *fsmHarness) *raft.Log {
				return h.entry(cmdRotateVault, RotateVaultCmd{KeyID: key, Secrets: []RotatedSecret{{Name: name, Version: 1, Ciphertext: []byte("resealed")}}})
			})
		}
	}
	return out
}

// TestSnapshotRestoreEquality checks that a replica restored from a
// snapshot and then fed the rest of the log ends equal to one that
// applied the whole log, wherever the snapshot is taken.
func TestSnapshotRestoreEquality(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 1))
		cmds := randomCommands(r, 200)
		full := newHarness(t)
		var logs []*raft.Log
		for _, c := range cmds {
			l := c(full)
			logs = append(logs, l)
			full.f.Apply(l)
		}
		cut := r.IntN(len(logs))
		prefix := newFSM()
		prefix.ApplyBatch(logs[:cut])
		restored := newFSM()
		if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, prefix)))); err != nil {
			t.Fatal(err)
		}
		restored.ApplyBatch(logs[cut:])
		if a, b := snapshotBytes(t, full.f), snapshotBytes(t, restored); !bytes.Equal(a, b) {
			t.Fatalf("seed %d cut %d: restored state differs\nfull:     %s\nrestored: %s", seed, cut, a, b)
		}
	}
}

// FuzzApply feeds arbitrary entries to the command decoder and handlers:
// whatever arrives, the result is a value, a business error or a skipped
// entry that does not decode — never a handler panic or a half-applied
// change.
func FuzzApply(f *testing.F) {
	h := newHarness(f)
	for _, seed := range []struct {
		typ commandType
		cmd any
	}{
		{cmdPutWorkflow, PutWorkflowCmd{ID: "w", Name: "w", Graph: graph("g")}},
		{cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "j", WorkflowID: "w", ExecutionMode: "lan"}}}},
		{cmdCancelJob, CancelJobCmd{ID: "j"}},
		{cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w", Force: true}},
		{cmdRegisterNode, RegisterNodeCmd{Node: NodeInfo{Name: "n"}}},
		{cmdSubmitGroups, SubmitGroupsCmd{Groups: [][]JobSpec{{{ID: "g", WorkflowID: "w", ExecutionMode: "lan"}}, {{ID: "h", WorkflowID: "x"}}}}},
		{cmdReportCrash, CrashCmd{RobotID: "r", Items: []Crash{{JobID: "j", Token: 1, Attempt: 1}}}},
		{cmdCreateAPIToken, CreateAPITokenCmd{ID: "t", Name: "n", Role: RoleViewer, Kind: KindToken, Hash: HashToken("s")}},
		{cmdRedeemCode, RedeemCodeCmd{CodeID: "c", CodeHash: HashToken("s"), SessionID: "x", SessionHash: HashToken("y"), TTL: time.Hour}},
	} {
		f.Add(h.entry(seed.typ, seed.cmd).Data)
	}
	f.Add([]byte{})
	f.Add([]byte{99, 0, 0, 0, 0, 0, 0, 0, 0, '{', '}'})
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newState()
		s.workflows["w"] = &Workflow{ID: "w", Name: "w", Versions: []WorkflowVersion{{Version: 1}}}
		s.byName["w"] = "w"
		before, _ := json.Marshal(s.snapshot())
		_, err, fatal := registry().apply(s, applyContext{index: 1}, data)
		var pe *panicError
		if errors.As(fatal, &pe) {
			t.Fatalf("a handler panicked: %v", fatal)
		}
		if err != nil || fatal != nil {
			after, _ := json.Marshal(s.snapshot())
			if !bytes.Equal(before, after) {
				t.Fatalf("a refused entry changed the state: err=%v fatal=%v", err, fatal)
			}
		}
	})
}

func TestRestoreKeepsAppliedIndex(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: json.RawMessage(`{"url":"a<b&c"}`)})
	restored := newFSM()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, h.f)))); err != nil {
		t.Fatal(err)
	}
	if idx, _ := restored.appliedIndex(); idx != h.index {
		t.Fatalf("restored applied index %d, want %d", idx, h.index)
	}
	wf := restored.state.workflows["w1"]
	if string(wf.Latest().Graph) != `{"url":"a<b&c"}` || checksum(wf.Latest().Graph) != wf.Latest().Checksum {
		t.Fatalf("graph bytes changed through a snapshot: %s", wf.Latest().Graph)
	}
}

func TestInvalidGraphRefused(t *testing.T) {
	h := newHarness(t)
	if _, err := h.apply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: json.RawMessage(`{nope`)}); ErrorCode(err) != CodeInvalid {
		t.Fatalf("invalid graph: %v", err)
	}
	if _, err := h.f.Snapshot(); err != nil {
		t.Fatalf("snapshot after a refused graph: %v", err)
	}
}

func TestSubmitResultsDoNotAliasTheFSM(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	token := h.claim("r1", 1)[0].Job.Lease.Token
	again := h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: "any"}}}).([]Job)
	before := again[0].Lease.ExpiresAt
	h.advance(10 * time.Second)
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token}}})
	if !again[0].Lease.ExpiresAt.Equal(before) {
		t.Fatal("a returned job changed under its reader")
	}
}

// TestReplayEndsInTheSameState checks that entries replayed from the log
// at open (whose results nobody waits for) change the state exactly as
// when applied live, and that an entry this process appends as leader
// gets its result even at an index inside the replayed range.
func TestReplayEndsInTheSameState(t *testing.T) {
	for seed := range uint64(10) {
		r := rand.New(rand.NewPCG(seed, 2))
		cmds := randomCommands(r, 200)
		live := newHarness(t)
		var logs []*raft.Log
		for _, c := range cmds {
			l := c(live)
			l.Term = 1
			logs = append(logs, l)
			live.f.Apply(l)
		}
		replayed := newFSM()
		replayed.replay = replayBound{index: logs[len(logs)-1].Index, term: 1}
		replayed.ApplyBatch(logs)
		if a, b := snapshotBytes(t, live.f), snapshotBytes(t, replayed); !bytes.Equal(a, b) {
			t.Fatalf("seed %d: replayed state differs\nlive:     %s\nreplayed: %s", seed, a, b)
		}
	}

	h := newHarness(t)
	h.f.replay = replayBound{index: 10, term: 3}
	h.apply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "w1", Graph: graph("a")})
	submit := SubmitGroupsCmd{Groups: [][]JobSpec{{{ID: "j1", WorkflowID: "w1", ExecutionMode: ModeLAN}}}}
	old := h.entry(cmdSubmitGroups, submit)
	old.Term = 3
	if res := h.f.Apply(old).(*applyResult); res.err != nil || len(res.value.(submitAnswer).full[0].Jobs) != 0 {
		t.Fatalf("a replayed submit: %+v", res)
	}
	submit.Groups[0][0].ID = "j2"
	mine := h.entry(cmdSubmitGroups, submit)
	mine.Term = 4 // this process's own term, at an index below the bound
	res := h.f.Apply(mine).(*applyResult)
	if res.err != nil || len(res.value.(submitAnswer).full[0].Jobs) != 1 || res.value.(submitAnswer).full[0].Jobs[0].ID != "j2" {
		t.Fatalf("a submit of this process's term: %+v", res)
	}
	if h.f.state.jobs["j1"] == nil || h.f.state.jobs["j2"] == nil {
		t.Fatal("a submitted job is missing from the state")
	}
}
