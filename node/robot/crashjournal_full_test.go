//go:build linux

package robot

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"github.com/casare/casare/consensus"
)

// fullDiskEnv tells the test binary it runs as the child of
// TestCrashJournalSurvivesAFullDisk, with the journal's dir.
const fullDiskEnv = "CASARE_TEST_JOURNAL_FULL_DISK"

// Notes of the full-disk test: "open" and "ended" begin before the disk
// fills, "lost" begins and "ended" ends while it is full, "after" begins
// once there is room again.
var (
	fullOpen  = consensus.Crash{JobID: "open", Token: 1, Attempt: 1}
	fullEnded = consensus.Crash{JobID: "ended", Token: 2, Attempt: 1}
	fullLost  = consensus.Crash{JobID: "lost-while-full", Token: 3, Attempt: 1}
	// fullLost2 begins in the same write as fullLost, as the runs of
	// one claim do: neither is noted.
	fullLost2 = consensus.Crash{JobID: "lost-too", Token: 5, Attempt: 1}
	fullAfter = consensus.Crash{JobID: "after", Token: 4, Attempt: 1}
)

// TestCrashJournalSurvivesAFullDisk fills the disk (a file size limit,
// RLIMIT_FSIZE, so that a note is written in part and the write fails)
// while a run begins and another ends, then notes more once there is
// room: a new process reports the runs open, neither the run whose begin
// failed nor the one that ended. The limit applies to a whole process, so
// the notes are written by a child process (this test binary run again).
func TestCrashJournalSurvivesAFullDisk(t *testing.T) {
	if dir := os.Getenv(fullDiskEnv); dir != "" {
		noteThroughAFullDisk(t, dir)
		return
	}
	dir := filepath.Join(t.TempDir(), "robot-runs")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashJournalSurvivesAFullDisk$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), fullDiskEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the child that notes runs through a full disk: %v\n%s", err, out)
	}
	_, left := reopen(t, dir)
	if want := []consensus.Crash{fullAfter, fullOpen}; !reflect.DeepEqual(left, want) {
		data, _ := os.ReadFile(filepath.Join(dir, journalFile))
		t.Fatalf("leftovers %+v; want %+v\njournal:\n%s", left, want, data)
	}
}

// noteThroughAFullDisk is the child: it notes runs, one of them with the
// file size limit just past the journal's size.
func noteThroughAFullDisk(t *testing.T, dir string) {
	j, err := OpenCrashJournal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []consensus.Crash{fullOpen, fullEnded} {
		if err := j.begin(c); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, journalFile))
	if err != nil {
		t.Fatal(err)
	}
	var was syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	full := was
	full.Cur = uint64(fi.Size()) + 10 // ten bytes of the next note fit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &full); err != nil {
		t.Fatal(err)
	}
	beginErr, endErr := j.begin(fullLost, fullLost2), j.end(fullEnded)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &was); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{beginErr, endErr} {
		if !errors.Is(err, syscall.EFBIG) {
			t.Fatalf("noting on a full disk: %v, want EFBIG", err)
		}
	}
	if cut, err := os.Stat(filepath.Join(dir, journalFile)); err != nil || cut.Size() != fi.Size() {
		t.Errorf("after the failed notes the journal has %d bytes, want the %d before them (%v)", cut.Size(), fi.Size(), err)
	}
	if err := j.begin(fullAfter); err != nil {
		t.Fatal(err)
	}
}

// A note written after a line cut short, with no newline between (a
// failed write that could not be cut back), is still read.
func FuzzParseNoteAfterACutLine(f *testing.F) {
	f.Add(`+{"job_id":"cut","tok`, "job/1", uint64(7), '+')
	f.Add(``, "a", uint64(0), '-')
	f.Add(`-{"job_id":"x","token":1,"attempt":1,"more":`, `+{"quoted"}`, uint64(1), '+')
	f.Add(`garbage +{" -{"`, "é\u2028", uint64(1<<63), '-')
	f.Fuzz(func(t *testing.T, cut, job string, token uint64, op rune) {
		if strings.Contains(cut, "\n") || job == "" || (op != '+' && op != '-') {
			return
		}
		want := consensus.Crash{JobID: job, Token: token, Attempt: 2}
		note, err := json.Marshal(want)
		if err != nil {
			return
		}
		if json.Unmarshal(note, &consensus.Crash{}) != nil {
			return
		}
		var back consensus.Crash
		_ = json.Unmarshal(note, &back)
		got, gotOp, ok := parseNote(cut + string(op) + string(note) + "\n")
		if !ok || gotOp != byte(op) || got != back {
			t.Fatalf("parseNote(%q + note) = %+v %c %v; want %+v %c", cut, got, gotOp, ok, back, op)
		}
	})
}
