package consensus

import (
	"bytes"
	"fmt"
	"io"
	"testing"
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
