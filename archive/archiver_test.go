package archive

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/consensus"
)

func batchOf(first, n int, upTo uint64) batch {
	b := batch{upTo: upTo, long: map[string]int{}}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := first; i < first+n; i++ {
		b.jobs = append(b.jobs, consensus.Job{
			ID: fmt.Sprintf("job-%d", i), WorkflowID: "wf-1", WorkflowVersion: 1, State: consensus.JobSucceeded,
			ExecutionMode: "lan", Attempt: 1, Seq: uint64(i), CreatedAt: at,
			JobRun: &consensus.JobRun{
				FinishedIndex: upTo - uint64(first+n-1-i), StartedAt: at, FinishedAt: at,
				Attempts: []consensus.Attempt{{Attempt: 1, RobotID: "r1", StartedAt: at, FinishedAt: at, Outcome: "succeeded"}},
				Logs:     []consensus.LogLine{{Time: at, Level: "info", Message: "done"}},
			},
		})
	}
	return b
}

// Batches are written side by side; when one fails, the position moves
// past the batches before it only, although the ones after it may be in
// Postgres already. Written again, every job is there once.
func TestThePositionMovesPastContiguousWrittenBatchesOnly(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, archivetest.Database(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := NewArchiver(db)
	batches := []batch{batchOf(1, 3, 110), batchOf(4, 3, 120), batchOf(7, 3, 130)}
	batches[1].jobs[1].Logs[0].Message = "a NUL byte \x00 Postgres refuses"
	written, err := a.writeBatches(ctx, "", batches)
	if written != 1 || err == nil {
		t.Fatalf("writeBatches = %d, %v; want 1 and the second batch's error", written, err)
	}
	tm := newTerm("")
	if err := a.advance(ctx, nil, tm, batches[:written]); err != nil {
		t.Fatal(err)
	}
	if pos, err := db.Position(ctx); err != nil || pos != 110 || a.ArchivedPosition().Index != 110 {
		t.Fatalf("position = %d (published %d), %v; want 110, the end of the first batch", pos, a.ArchivedPosition().Index, err)
	}
	// The next round reads from the position on: the third batch's jobs
	// are there already and go in again with upserts.
	batches[1].jobs[1].Logs[0].Message = "fixed"
	if written, err := a.writeBatches(ctx, "", batches[1:]); written != 2 || err != nil {
		t.Fatalf("writeBatches again = %d, %v; want 2", written, err)
	}
	if err := a.advance(ctx, nil, tm, batches[1:]); err != nil {
		t.Fatal(err)
	}
	var jobs, logs int
	if err := db.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM jobs), (SELECT count(*) FROM job_logs)`).Scan(&jobs, &logs); err != nil {
		t.Fatal(err)
	}
	if pos, _ := db.Position(ctx); jobs != 9 || logs != 9 || pos != 130 || a.JobsArchived() != 9 {
		t.Fatalf("%d jobs, %d log lines, position %d, %d counted; want 9, 9, 130, 9", jobs, logs, pos, a.JobsArchived())
	}
}
