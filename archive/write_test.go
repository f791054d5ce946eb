package archive_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/archive"
	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/consensus"
)

func finishedJob(i int, msg string) consensus.Job {
	at := time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC)
	return consensus.Job{
		ID: fmt.Sprintf("job-%d", i), WorkflowID: "wf-1", WorkflowVersion: 1, State: consensus.JobSucceeded,
		ExecutionMode: "lan", Attempt: 1, MaxAttempts: 3, Seq: uint64(i), CreatedAt: at,
		JobRun: &consensus.JobRun{
			FinishedIndex: uint64(100 + i), StartedAt: at.Add(time.Second), FinishedAt: at.Add(3 * time.Second),
			Attempts: []consensus.Attempt{{Attempt: 1, RobotID: "r1", StartedAt: at.Add(time.Second), FinishedAt: at.Add(3 * time.Second), Outcome: "succeeded"}},
			Logs:     []consensus.LogLine{{Time: at.Add(2 * time.Second), Level: "info", NodeID: "n1", Message: msg}},
		},
	}
}

func TestWritingTheSameJobsTwiceDoublesNothing(t *testing.T) {
	db := open(t, archivetest.Database(t))
	ctx := context.Background()
	jobs := []consensus.Job{finishedJob(1, "one"), finishedJob(2, "two")}
	// At position 0 nothing is skipped: the second write finds the rows
	// there and falls back to upserts. Then the position moves.
	for _, upTo := range []uint64{0, 0, 102, 102} {
		if err := db.WriteJobs(ctx, "", jobs, upTo); err != nil {
			t.Fatalf("write up to %d: %v", upTo, err)
		}
	}
	if err := db.WriteJobs(ctx, "", nil, 90); err != nil { // an old leader's late write
		t.Fatal(err)
	}
	pos, err := db.Position(ctx)
	if err != nil || pos != 102 {
		t.Fatalf("position = %d, %v; want 102 (it never goes back)", pos, err)
	}
	got, err := db.Jobs(ctx, archive.JobQuery{Limit: 10})
	if err != nil || len(got) != 2 || got[0].ID != "job-2" {
		t.Fatalf("archived jobs = %+v, %v; want job-2, job-1", got, err)
	}
	lines, total, err := db.Logs(ctx, "job-1", 0, 10)
	if err != nil || total != 1 || lines[0].Message != "one" {
		t.Fatalf("log of job-1 = %+v (total %d), %v", lines, total, err)
	}
	st, err := db.Stats(ctx)
	if err != nil || len(st.Workflows) != 1 || st.Workflows[0].Runs != 2 || st.Workflows[0].SuccessRate != 1 ||
		st.Workflows[0].P50Seconds == nil || *st.Workflows[0].P50Seconds != 2 || len(st.Robots) != 1 || st.Robots[0].Attempts != 2 {
		b, _ := json.Marshal(st)
		t.Fatalf("stats = %s, %v", b, err)
	}
}

func TestFullTextSearchFindsWorkflowsAndJobLogs(t *testing.T) {
	db := open(t, archivetest.Database(t))
	ctx := context.Background()
	graph := func(desc string, types ...string) json.RawMessage {
		var nodes []map[string]string
		for i, ty := range types {
			nodes = append(nodes, map[string]string{"id": fmt.Sprint(i), "type": ty})
		}
		b, _ := json.Marshal(map[string]any{"name": "x", "description": desc, "nodes": nodes})
		return b
	}
	wf := func(id, name string, g json.RawMessage) consensus.Workflow {
		return consensus.Workflow{ID: id, Name: name, Versions: []consensus.WorkflowVersion{{Version: 1, Graph: g, Checksum: "c", CreatedAt: time.Now()}}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	}
	err := db.WriteMeta(ctx, archive.Meta{Workflows: []consensus.Workflow{
		wf("w1", "invoice-sync", graph("Copies invoices into the ledger", "start", "http_request", "end")),
		wf("w2", "nightly-report", graph("Mails the daily report", "start", "shell", "end")),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"invoice": "w1", "ledger": "w1", "shell": "w2", "http_request": "w1", "reports": "w2"} {
		hits, err := db.SearchWorkflows(ctx, q, 10)
		if err != nil || len(hits) != 1 || hits[0].ID != want {
			t.Errorf("search %q = %+v, %v; want only %s", q, hits, err, want)
		}
	}
	if err := db.WriteJobs(ctx, "", []consensus.Job{finishedJob(1, "connection refused by upstream"), finishedJob(2, "all good")}, 102); err != nil {
		t.Fatal(err)
	}
	got, err := db.Jobs(ctx, archive.JobQuery{Text: "refused", Limit: 10})
	if err != nil || len(got) != 1 || got[0].ID != "job-1" {
		t.Fatalf("job search = %+v, %v; want job-1", got, err)
	}
}

// After an operator restore the jobs carry another cluster's indexes: the
// position is reset under the new restore id, a writer that still reads
// the state from before is refused, and the restored jobs, written again
// from 0, are each there once.
func TestARestoreRealignsThePosition(t *testing.T) {
	db := open(t, archivetest.Database(t))
	ctx := context.Background()
	if err := db.WriteJobs(ctx, "", []consensus.Job{finishedJob(1, "one"), finishedJob(2, "two")}, 5000); err != nil {
		t.Fatal(err)
	}
	if pos, err := db.Realign(ctx, ""); err != nil || pos != 5000 {
		t.Fatalf("realign under the same id = %d, %v; want 5000 unchanged", pos, err)
	}
	// The restored state: job-1 again (archived already) and job-3, both
	// at indexes far below 5000 that the old position would have skipped.
	if pos, err := db.Realign(ctx, "restore-1"); err != nil || pos != 0 {
		t.Fatalf("realign under a new restore id = %d, %v; want 0", pos, err)
	}
	err := db.WriteJobs(ctx, "", []consensus.Job{finishedJob(4, "late")}, 6000)
	if !errors.Is(err, archive.ErrAnotherState) {
		t.Fatalf("a write from the state before the restore = %v, want ErrAnotherState", err)
	}
	if err := db.WriteJobs(ctx, "restore-1", []consensus.Job{finishedJob(1, "one"), finishedJob(3, "three")}, 103); err != nil {
		t.Fatal(err)
	}
	if pos, err := db.Realign(ctx, "restore-1"); err != nil || pos != 103 {
		t.Fatalf("position after the restored jobs = %d, %v; want 103", pos, err)
	}
	got, err := db.Jobs(ctx, archive.JobQuery{Limit: 10})
	if err != nil || len(got) != 3 {
		t.Fatalf("archived jobs = %+v, %v; want job-1, job-2 and job-3 once each", got, err)
	}
	if _, found, _ := db.Job(ctx, "job-4"); found {
		t.Fatal("the refused write archived its job")
	}
}

// A lost robot spends no attempt, so the run after it has the same
// attempt number; both runs are archived.
func TestRunsThatShareAnAttemptAreArchivedApart(t *testing.T) {
	db := open(t, archivetest.Database(t))
	ctx := context.Background()
	j := finishedJob(1, "one")
	first := j.Attempts[0]
	first.RobotID, first.Outcome, first.Error = "r0", "robot_lost", "robot r0 was declared dead"
	j.Attempts = append([]consensus.Attempt{first}, j.Attempts...)
	if err := db.WriteJobs(ctx, "", []consensus.Job{j}, 101); err != nil {
		t.Fatal(err)
	}
	st, err := db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	robots := map[string]int64{}
	for _, r := range st.Robots {
		robots[r.RobotID] = r.Attempts
	}
	if len(robots) != 2 || robots["r0"] != 1 || robots["r1"] != 1 {
		t.Fatalf("attempts per robot = %v; want r0 and r1 with one each", robots)
	}
}
