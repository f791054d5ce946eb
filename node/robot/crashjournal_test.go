package robot

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/casare/casare/consensus"
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
	again, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	left, err := again.leftovers()
	if err != nil {
		t.Fatal(err)
	}
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
