package consensus

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// logLines returns n log lines numbered from first.
func logLines(first, n int) []LogLine {
	lines := make([]LogLine, n)
	for i := range lines {
		lines[i] = LogLine{Level: "info", Message: fmt.Sprintf("line %d", first+i)}
	}
	return lines
}

// logJob returns the job's kept lines: the number of the first and how many.
func (h *fsmHarness) logJob(id string) (first, kept int) {
	j := h.f.state.jobs[id]
	return j.LogsDropped, len(j.Logs)
}

func (h *fsmHarness) appendLogs(robot string, c ClaimedJob, first, n int) {
	h.t.Helper()
	h.mustApply(cmdProgress, ProgressCmd{RobotID: robot, Items: []Progress{{JobID: c.Job.ID, Token: c.Job.Lease.Token, Logs: logLines(first, n)}}})
}

func TestWithoutAnArchiveAJobKeepsTheNewestWindow(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.appendLogs("r1", c, 0, 600)
	if first, kept := h.logJob("j1"); first != 400 || kept != MaxJobLogLines {
		t.Fatalf("kept lines %d.. (%d), want 400.. (%d)", first, kept, MaxJobLogLines)
	}
}

// A late archiver round must not cost lines: the replicas keep them
// until the archive says it holds them, and then shrink to the window.
func TestLinesWaitForTheArchiveBeforeTheyLeave(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{}) // an archiver started
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	for i := range 3 {
		h.appendLogs("r1", c, i*200, 200)
	}
	if first, kept := h.logJob("j1"); first != 0 || kept != 600 {
		t.Fatalf("before the archive holds them: kept lines %d.. (%d), want 0.. (600)", first, kept)
	}
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{Lines: map[string]int{"j1": 500}})
	if first, kept := h.logJob("j1"); first != 400 || kept != 200 {
		t.Fatalf("archive holds 500: kept lines %d.. (%d), want 400.. (200)", first, kept)
	}
	// A late, smaller mark changes nothing.
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{Lines: map[string]int{"j1": 100, "gone": 7}})
	if first, kept := h.logJob("j1"); first != 400 || kept != 200 {
		t.Fatalf("after a stale mark: kept lines %d.. (%d), want 400.. (200)", first, kept)
	}
	// An archive that is down for long costs at most the bound.
	h.appendLogs("r1", c, 600, 3*MaxUnarchivedLogLines)
	first, kept := h.logJob("j1")
	if kept != MaxUnarchivedLogLines || first+kept != 600+3*MaxUnarchivedLogLines {
		t.Fatalf("archive behind: kept lines %d.. (%d), want the newest %d", first, kept, MaxUnarchivedLogLines)
	}
	// The setting survives a snapshot.
	restored := restoreHarness(t, h)
	restored.appendLogs("r1", c, first+kept, 300)
	if _, kept := restored.logJob("j1"); kept != MaxUnarchivedLogLines {
		t.Fatalf("after restore: kept %d lines, want %d (lines wait for the archive)", kept, MaxUnarchivedLogLines)
	}
}

// restoreHarness returns a harness on a replica restored from h's snapshot.
func restoreHarness(t *testing.T, h *fsmHarness) *fsmHarness {
	t.Helper()
	r := newHarness(t)
	if err := r.f.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, h.f)))); err != nil {
		t.Fatalf("restore: %v", err)
	}
	r.index, r.now = h.index, h.now
	return r
}

// A finished job written to the archive but never marked (its archiver
// lost leadership in between) is found by the next archiver's sweep, and
// the mark shrinks it to the window.
func TestUnmarkedLogsFindsArchivedJobsThatKeptTheirLines(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{})
	h.submit("long", 0)
	h.submit("short", 0)
	claimed := h.claim("r1", 2)
	for _, c := range claimed {
		n := 10
		if c.Job.ID == "long" {
			n = 500
		}
		h.appendLogs("r1", c, 0, n)
		h.complete("r1", Completion{JobID: c.Job.ID, Token: c.Job.Lease.Token, Succeeded: true})
	}
	store := storeOver(h)
	if got := store.UnmarkedLogs(0); len(got) != 0 {
		t.Fatalf("below every finishing index: %v, want none", got)
	}
	got := store.UnmarkedLogs(h.index)
	if len(got) != 1 || got["long"] != 500 {
		t.Fatalf("UnmarkedLogs = %v, want long with 500 lines", got)
	}
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{Lines: got})
	if first, kept := h.logJob("long"); kept != MaxJobLogLines || first != 300 {
		t.Fatalf("after the mark: kept lines %d.. (%d), want 300.. (%d)", first, kept, MaxJobLogLines)
	}
	if got := store.UnmarkedLogs(h.index); len(got) != 0 {
		t.Fatalf("after the mark: %v, want none", got)
	}
}

// When the archive goes away, the lines kept for it go too: jobs shrink
// to the window at once and keep only the window after, until an
// archiver marks again.
func TestStoppingKeepingLogsShrinksJobsToTheWindow(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{})
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.appendLogs("r1", c, 0, 600)
	if _, kept := h.logJob("j1"); kept != 600 {
		t.Fatalf("while an archiver runs: kept %d lines, want 600", kept)
	}
	h.mustApply(cmdStopKeepingLogs, StopKeepingLogsCmd{})
	if first, kept := h.logJob("j1"); first != 400 || kept != MaxJobLogLines {
		t.Fatalf("after the stop: kept lines %d.. (%d), want 400.. (%d)", first, kept, MaxJobLogLines)
	}
	h.appendLogs("r1", c, 600, 100)
	if first, kept := h.logJob("j1"); first != 500 || kept != MaxJobLogLines {
		t.Fatalf("lines after the stop: kept %d.. (%d), want 500.. (%d)", first, kept, MaxJobLogLines)
	}
	if restoreHarness(t, h).f.state.archivesLogs {
		t.Fatal("a snapshot after the stop still keeps lines for an archive")
	}
	h.mustApply(cmdLogsArchived, LogsArchivedCmd{}) // an archive is back
	h.appendLogs("r1", c, 700, 100)
	if _, kept := h.logJob("j1"); kept != MaxJobLogLines+100 {
		t.Fatalf("with an archiver again: kept %d lines, want %d", kept, MaxJobLogLines+100)
	}
}

// A leader without an archive turns the keeping off that an archiver
// (here, a mark from a leader with one) turned on, on every replica; a
// leader with one leaves it on.
func TestALeaderWithoutAnArchiveStopsKeepingLinesForIt(t *testing.T) {
	for _, archives := range []bool{false, true} {
		t.Run(fmt.Sprintf("archives=%v", archives), func(t *testing.T) {
			c := startClusterWith(t, 2, func(cfg *Config) { cfg.Archives = archives })
			leader := c.waitLeader(5 * time.Second)
			keeps := func(s *Store) (on bool) {
				s.fsm.read(func(st *state) { on = st.archivesLogs })
				return on
			}
			if err := leader.MarkLogsArchived(t.Context(), nil); err != nil {
				t.Fatal(err)
			}
			if !archives {
				for _, s := range c.stores {
					testutil.WaitFor(t, 10*time.Second, s.cfg.Name+" to stop keeping lines", func() bool { return !keeps(s) })
				}
				return
			}
			// Both replicas apply a no-op written after two duty ticks:
			// had the duty turned keeping off, they would have applied it.
			deadline := time.Now().Add(2 * retentionTick)
			testutil.WaitFor(t, 10*time.Second, "two duty ticks", func() bool { return time.Now().After(deadline) })
			if err := leader.Noop(t.Context()); err != nil {
				t.Fatal(err)
			}
			for _, s := range c.stores {
				if _, err := s.WaitConsistent(t.Context()); err != nil {
					t.Fatal(err)
				}
				if !keeps(s) {
					t.Errorf("%s stopped keeping lines under a leader with an archive", s.cfg.Name)
				}
			}
		})
	}
}

// A prune proposed before an operator restore and applied after it names
// the jobs of the state before: it removes nothing from the restored one.
func TestAPruneFromBeforeARestoreRemovesNothing(t *testing.T) {
	h := newQueueHarness(t)
	h.submit("j1", 0)
	c := h.claim("r1", 1)[0]
	h.complete("r1", Completion{JobID: c.Job.ID, Token: c.Job.Lease.Token, Succeeded: true})
	h.f.state.restoreID = "restored" // as Store.Restore sets it
	later := h.now.Add(time.Hour)
	h.mustApply(cmdPruneJobs, PruneJobsCmd{IDs: []string{"j1"}, Before: later})
	if _, ok := h.f.state.jobs["j1"]; !ok {
		t.Fatal("a prune from before the restore removed a restored job")
	}
	h.mustApply(cmdPruneJobs, PruneJobsCmd{IDs: []string{"j1"}, Before: later, RestoreID: "restored"})
	if _, ok := h.f.state.jobs["j1"]; ok {
		t.Fatal("a prune of the restored state kept its job")
	}
}
