package archive

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/consensus"
)

// finishedSource serves fixed finished jobs as the store's FinishedFrom
// does, and ends the round's context once it has been read too often.
type finishedSource struct {
	jobs    []consensus.Job // in (FinishedIndex, id) order
	applied uint64
	reads   int
	giveUp  context.CancelFunc
}

func (s *finishedSource) FinishedFrom(from uint64, limit int) ([]consensus.Job, bool, uint64) {
	if s.reads++; s.reads > 50 {
		s.giveUp() // the round reads the same jobs again and again
	}
	var out []consensus.Job
	for _, j := range s.jobs {
		if j.FinishedIndex < from {
			continue
		}
		if len(out) >= limit && j.FinishedIndex != out[len(out)-1].FinishedIndex {
			return out, false, s.applied
		}
		out = append(out, j)
	}
	return out, true, s.applied
}

func (s *finishedSource) RestoreID() string { return "" }
func (s *finishedSource) Workflows() ([]consensus.Workflow, uint64) {
	return []consensus.Workflow{{ID: "wf-1", Name: "w", Versions: []consensus.WorkflowVersion{{Version: 1, Graph: []byte(`{}`), Checksum: "c"}}}}, s.applied
}
func (s *finishedSource) Schedules(string) ([]consensus.Schedule, uint64)        { return nil, s.applied }
func (s *finishedSource) Robots() []consensus.RobotRecord                        { return nil }
func (s *finishedSource) LiveLogs(map[string]int) []consensus.LiveLog            { return nil }
func (s *finishedSource) MarkLogsArchived(context.Context, map[string]int) error { return nil }
func (s *finishedSource) UnmarkedLogs(uint64) map[string]int                     { return nil }

// TestMoreLegacyJobsThanABatchAreArchivedOnce: jobs from snapshots older
// than FinishedIndex all carry index 0, and a read returns them all at
// once however many there are. With more of them than a batch, the
// position could not move past them (it stays 0), and every read from 0
// returned them again: the archiver wrote them over and over and never
// reached the jobs after them.
func TestMoreLegacyJobsThanABatchAreArchivedOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := Open(ctx, archivetest.Database(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	legacy := batchOf(1, batchJobs+200, 0).jobs
	for i := range legacy {
		legacy[i].FinishedIndex = 0
	}
	later := batchOf(batchJobs+201, 5, 14).jobs
	src := &finishedSource{jobs: slices.Concat(legacy, later), applied: 20, giveUp: cancel}
	slices.SortFunc(src.jobs, func(a, b consensus.Job) int {
		if a.FinishedIndex != b.FinishedIndex {
			return int(a.FinishedIndex) - int(b.FinishedIndex)
		}
		return strings.Compare(a.ID, b.ID)
	})
	a := NewArchiver(db)
	if err := a.round(ctx, src, newTerm("")); err != nil {
		t.Fatalf("round after %d reads: %v", src.reads, err)
	}
	var jobs int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM jobs`).Scan(&jobs); err != nil {
		t.Fatal(err)
	}
	if pos, _ := db.Position(ctx); jobs != len(src.jobs) || pos != 20 {
		t.Errorf("%d jobs archived, position %d; want %d and 20", jobs, pos, len(src.jobs))
	}
}
