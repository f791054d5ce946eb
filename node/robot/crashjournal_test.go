package robot

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// The journal returns exactly the runs begun and not ended, by job and
// token, and drops a note cut short while it was written.
func TestCrashJournalKeepsUnfinishedRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "robot-runs")
	j, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	done := consensus.Crash{JobID: "job/1", Token: 7, Attempt: 1}
	dying := consensus.Crash{JobID: "job/1", Token: 9, Attempt: 2} // the same job, re-leased
	for _, c := range []consensus.Crash{done, dying} {
		if err := j.begin(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.end(done); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cut.json"), []byte(`{"job_`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A new process opens the same journal.
	again, left := reopen(t, dir)
	if !reflect.DeepEqual(left, []consensus.Crash{dying}) {
		t.Fatalf("leftovers %+v; want only %+v", left, dying)
	}
	if _, err := os.Stat(filepath.Join(dir, "cut.json")); !os.IsNotExist(err) {
		t.Fatalf("a cut note was kept: %v", err)
	}
	if err := again.end(dying); err != nil {
		t.Fatal(err)
	}
	if left, _ := again.leftovers(); len(left) != 0 {
		t.Fatalf("leftovers after the report: %+v", left)
	}
}

// The runs of a claim are noted in one write and each ends on its own: a
// new process reports those of them that had not ended.
func TestCrashJournalNotesAClaimAtOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "robot-runs")
	j, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	claim := []consensus.Crash{{JobID: "a", Token: 1, Attempt: 1}, {JobID: "b", Token: 2, Attempt: 1}, {JobID: "c", Token: 3, Attempt: 2}}
	if err := j.begin(claim...); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(string(data), "\n"); lines != len(claim) {
		t.Fatalf("the journal holds %d lines after a claim of %d runs:\n%s", lines, len(claim), data)
	}
	if err := j.end(claim[1]); err != nil {
		t.Fatal(err)
	}
	_, left := reopen(t, dir)
	if want := []consensus.Crash{claim[0], claim[2]}; !reflect.DeepEqual(left, want) {
		t.Fatalf("leftovers %+v; want %+v", left, want)
	}
}

// A journal that grew past compactBytes is rewritten with only the open
// runs, and a line cut short by a dying process is ignored: the runs
// open before it are reported, and a run begun by an older version's
// one-file note is reported and forgotten like the others.
func TestCrashJournalCompactsAndSurvivesACutLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "robot-runs")
	legacy := consensus.Crash{JobID: "old", Token: 3, Attempt: 1}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "6f6c64-3.json"), []byte(`{"job_id":"old","token":3,"attempt":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	open := consensus.Crash{JobID: "long-running", Token: 1, Attempt: 1}
	if err := j.begin(open); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, journalFile)
	var biggest int64
	for i := range 20000 {
		c := consensus.Crash{JobID: fmt.Sprintf("job-%d", i), Token: uint64(i), Attempt: 1}
		if err := j.begin(c); err != nil {
			t.Fatal(err)
		}
		if err := j.end(c); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err == nil {
			biggest = max(biggest, fi.Size())
		}
	}
	if biggest > compactBytes+512 {
		t.Fatalf("the journal grew to %d bytes; it is compacted past %d", biggest, compactBytes)
	}
	// The process dies while it notes one more run.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(`+{"job_id":"cut","tok`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	again, left := reopen(t, dir)
	want := []consensus.Crash{open, legacy}
	if !reflect.DeepEqual(left, want) {
		t.Fatalf("leftovers %+v; want %+v", left, want)
	}
	for _, c := range left {
		if err := again.end(c); err != nil {
			t.Fatal(err)
		}
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	third, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if left, err := third.leftovers(); err != nil || len(left) != 0 {
		t.Fatalf("leftovers after the report: %+v, %v", left, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "6f6c64-3.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the older version's note outlived its report: %v", err)
	}
}

// reopen opens dir's journal as a new process would and returns it with
// the runs it reports as crashed.
func reopen(t *testing.T, dir string) (*CrashJournal, []consensus.Crash) {
	t.Helper()
	j, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	left, err := j.leftovers()
	if err != nil {
		t.Fatal(err)
	}
	return j, left
}

// BenchmarkCrashJournal is the journal's cost per run (a begin and an
// end) with 64 runs at a time, as a busy robot has.
func BenchmarkCrashJournal(b *testing.B) {
	j, err := OpenCrashJournal(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	var next atomic.Uint64
	b.SetParallelism(32) // 64 goroutines on 2 CPUs
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := consensus.Crash{JobID: "01a22c96-1821-7f02-8b5a-a7a2860653d8", Token: next.Add(1), Attempt: 1}
			if err := j.begin(c); err != nil {
				b.Error(err)
				return
			}
			if err := j.end(c); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// A robot notes a claimed run in its journal and forgets it when the
// run ends: its journal then holds the run's begin and end notes, in
// that order.
func TestRobotNotesItsRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "robot-runs")
	j, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	q := &faultyQueue{claims: []consensus.ClaimedJob{claimed("J", 4, "0s")}}
	r := New(Config{ID: "r1", Kind: consensus.RobotLAN, Capacity: 2, ReportInterval: 100 * time.Millisecond, Journal: j,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	runRobotUntil(t, r, 5*time.Second, "the completion of J", q.completed)
	data, err := os.ReadFile(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for line := range strings.Lines(string(data)) {
		if c, op, ok := parseNote(line); ok {
			ops = append(ops, fmt.Sprintf("%c%s/%d", op, c.JobID, c.Token))
		}
	}
	if want := []string{"+J/4", "-J/4"}; !reflect.DeepEqual(ops, want) {
		t.Fatalf("journal notes %v; want %v", ops, want)
	}
}

// A note is written by hand as json.Marshal writes it, whatever the job
// id, and reads back as the run it notes.
func FuzzAppendNote(f *testing.F) {
	f.Add("01a22c96-1821-7f02-8b5a-a7a2860653d8", uint64(7), 2)
	f.Add(`a"b\c<d>&é`+"\n", uint64(0), 0)
	f.Add("", uint64(1<<63), -1)
	f.Fuzz(func(t *testing.T, id string, token uint64, attempt int) {
		c := consensus.Crash{JobID: id, Token: token, Attempt: attempt}
		want, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		got := appendNote([]byte("x"), '-', c)
		if string(got) != "x-"+string(want)+"\n" {
			t.Fatalf("appendNote wrote %q; json.Marshal writes %q", got, want)
		}
		if id == "" || !utf8.ValidString(id) {
			return // no run has such an id: the reader skips an empty one, and JSON replaces bad UTF-8
		}
		back, op, ok := parseNote(string(got[1:]))
		if !ok || back.JobID != id || op != '-' || back.Token != token || back.Attempt != attempt {
			t.Fatalf("the note %q read back as %+v, %c, %v", got[1:], back, op, ok)
		}
	})
}
