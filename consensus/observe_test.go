package consensus

import (
	"bytes"
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	applied  []Applied
	restored []uint64
}

// Applied keeps a copy of the changes: the slice is the FSM's again once
// the call returns.
func (r *recorder) Applied(a Applied) {
	a.Changes = slices.Clone(a.Changes)
	r.applied = append(r.applied, a)
}
func (r *recorder) Restored(index uint64, _ JobCounts) { r.restored = append(r.restored, index) }

func (r *recorder) jobChanges() []Change {
	var out []Change
	for _, a := range r.applied {
		for _, c := range a.Changes {
			if c.Kind == ChangeJob {
				out = append(out, c)
			}
		}
	}
	return out
}

// A claim is observed with the attempt, robot and start time it gave,
// though the handler sets them after the state; a completion with the
// progress it carried and then the final state; each with its entry's
// index and the leader's time.
func TestObserverSeesEachEntrysChanges(t *testing.T) {
	h := newQueueHarness(t)
	rec := &recorder{}
	h.f.observers.add(rec)
	h.submit("j1", 0)
	claimed := h.claim("r1", 1)
	claimIndex := h.index
	h.mustApply(cmdCompleteJobs, CompleteCmd{RobotID: "r1", Items: []Completion{{
		JobID: "j1", Token: claimed[0].Job.Lease.Token, Succeeded: true, NodeStatus: map[string]string{"start": "done"},
	}}})
	jobs := rec.jobChanges()
	if len(jobs) != 3 {
		t.Fatalf("job changes %+v, want queued, running, succeeded", jobs)
	}
	run := jobs[1]
	if run.From != JobQueued || run.To != JobRunning || run.Attempt != 1 || run.RobotID != "r1" || run.StartedAt.IsZero() {
		t.Errorf("claim observed as %+v, want attempt 1 on r1 with its start", run)
	}
	if rec.applied[1].Index != claimIndex || !run.Time.Equal(run.StartedAt) {
		t.Errorf("claim observed at index %d time %v, want index %d and the claim's time", rec.applied[1].Index, run.Time, claimIndex)
	}
	last := rec.applied[2]
	if len(last.Changes) != 2 || last.Changes[0].Kind != ChangeProgress || last.Changes[0].NodeStatus["start"] != "done" || last.Changes[1].To != JobSucceeded {
		t.Errorf("completion observed as %+v, want its progress, then succeeded", last.Changes)
	}
	if last.Counts != (JobCounts{Succeeded: 1}) {
		t.Errorf("counts after the completion %+v, want one succeeded", last.Counts)
	}
}

// Job counts kept on apply always equal a walk over the jobs, through
// random commands and a snapshot restore; a restore is reported to
// observers with its index.
func TestJobCountsMatchTheJobs(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 1))
	h := newHarness(t)
	for _, c := range randomCommands(r, 300) {
		h.f.Apply(c(h))
	}
	walk := func(f *fsm) (JobCounts, JobCounts) {
		var w JobCounts
		for _, j := range f.state.jobs {
			w.add(j.State, 1)
		}
		return f.state.counts, w
	}
	if kept, walked := walk(h.f); kept != walked {
		t.Fatalf("counts kept on apply %+v, walked %+v", kept, walked)
	}
	// Retention removes finished jobs; the counts follow.
	var ids []string
	for id, j := range h.f.state.jobs {
		if j.State.Terminal() && len(ids) < 20 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		t.Fatal("the random commands finished no job")
	}
	h.mustApply(cmdPruneJobs, PruneJobsCmd{IDs: ids, Before: h.now.Add(time.Hour)})
	if kept, walked := walk(h.f); kept != walked {
		t.Fatalf("after pruning %d jobs: counts kept on apply %+v, walked %+v", len(ids), kept, walked)
	}
	restored := newFSM()
	rec := &recorder{}
	restored.observers.add(rec)
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, h.f)))); err != nil {
		t.Fatal(err)
	}
	if kept, walked := walk(restored); kept != walked || kept != h.f.state.counts {
		t.Errorf("restored counts %+v, walked %+v, original %+v", kept, walked, h.f.state.counts)
	}
	if len(rec.restored) != 1 || rec.restored[0] != h.f.applied {
		t.Errorf("restore reported %v, want [%d]", rec.restored, h.f.applied)
	}
}

// A drained robot claims nothing and keeps what it runs; recalling its
// jobs requeues them without spending an attempt, refuses its next
// heartbeat, and gives them to another robot.
func TestDrainAndRecall(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	h.submit("j2", 0)
	first := h.claim("r1", 1)
	h.mustApply(cmdDrainRobot, DrainRobotCmd{RobotID: "r1", Drained: true})
	if got := h.claim("r1", 1); len(got) != 0 {
		t.Fatalf("a drained robot claimed %d jobs", len(got))
	}
	ack := h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: first[0].Job.Lease.Token}}}).([]Ack)
	if !ack[0].OK {
		t.Fatalf("a drained robot's heartbeat for its running job: %+v, want ok", ack[0])
	}
	ids := h.mustApply(cmdRecallJobs, RecallJobsCmd{RobotID: "r1"}).([]string)
	if len(ids) != 1 || ids[0] != "j1" {
		t.Fatalf("recalled %v, want [j1]", ids)
	}
	j := h.f.state.jobs["j1"]
	if j.State != JobQueued || j.Attempt != 0 || j.Attempts[0].Outcome != "handed_back" {
		t.Errorf("recalled job %s attempt %d attempts %+v; want queued, attempt not spent, handed back", j.State, j.Attempt, j.Attempts)
	}
	ack = h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: first[0].Job.Lease.Token}}}).([]Ack)
	if !ack[0].Stop {
		t.Errorf("heartbeat after the recall: %+v, want stop", ack[0])
	}
	if got := h.claim("r2", 2); len(got) != 2 {
		t.Errorf("another robot claimed %d jobs, want both", len(got))
	}
	h.mustApply(cmdDrainRobot, DrainRobotCmd{RobotID: "r1", Drained: false})
	h.submit("j3", 0)
	if got := h.claim("r1", 1); len(got) != 1 {
		t.Errorf("an undrained robot claimed %d jobs, want 1", len(got))
	}
}

// A job's first node status is the map its observers were handed
// (recordStatus): a later report merges into a new map, so the status an
// observer holds stays what that report said, and neither the command's
// map nor a change to it reaches the state.
func TestObservedStatusStaysAsReported(t *testing.T) {
	h := newQueueHarness(t)
	rec := &recorder{}
	h.f.observers.add(rec)
	h.submit("j1", 0)
	token := h.claim("r1", 1)[0].Job.Lease.Token
	first := map[string]string{"a": "running"}
	h.mustApply(cmdProgress, ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: token, NodeStatus: first}}})
	h.mustApply(cmdCompleteJobs, CompleteCmd{RobotID: "r1", Items: []Completion{{
		JobID: "j1", Token: token, Succeeded: true, NodeStatus: map[string]string{"a": "done", "b": "done"},
	}}})
	var seen []map[string]string
	for _, a := range rec.applied {
		for _, c := range a.Changes {
			if c.Kind == ChangeProgress {
				seen = append(seen, c.NodeStatus)
			}
		}
	}
	if len(seen) != 2 || len(seen[0]) != 1 || seen[0]["a"] != "running" || seen[1]["a"] != "done" || seen[1]["b"] != "done" {
		t.Fatalf("observed statuses %v, want {a:running} then {a:done b:done}", seen)
	}
	var got map[string]string
	h.f.read(func(s *state) { got = s.jobs["j1"].NodeStatus })
	if len(got) != 2 || got["a"] != "done" || got["b"] != "done" {
		t.Fatalf("job status %v, want {a:done b:done}", got)
	}
}
