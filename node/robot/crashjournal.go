package robot

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/plainjson"
	"github.com/casare/casare/internal/retry"
)

// CrashJournal notes in a robot's data dir the runs it has begun and not
// yet ended. A process that dies in the middle of a run leaves its note
// behind; when the robot comes back it reports those runs as crashed, and
// the leader declares a job that crashed its robots twice dead instead of
// handing it to the next robot. A robot that was only cut off, or
// declared dead by gossip while it went on, ends its runs normally and
// reports no crash.
//
// The notes are lines appended to one file, journalFile: "+" and a
// run's JSON when it begins, "-" and the same when it ends. One write
// for the begin notes of a claim's runs and one per end note, on a file
// kept open, is what a robot running thousands of jobs a second can
// afford: a file per run cost a create and an unlink,
// each taking the directory's lock, and under load the robot spent most
// of its CPU there (see the commit that made this change). When the file
// grows past compactBytes, or an end note could not be written (a full
// disk), it is rewritten with the runs still open.
//
// Notes are written without fsync: what must survive is the death of the
// process, and the kernel keeps written data when a process dies. Only a
// crash of the whole machine loses a note, and that was not the job's
// doing anyway.
type CrashJournal struct {
	dir string

	mu   sync.Mutex
	f    *os.File // journalFile, opened for appending on first use
	size int64
	// stale says the file notes as open a run that ended, whose end
	// note failed; the next compaction rewrites it.
	stale  bool
	loaded bool
	// open are the runs begun and not ended; prior are those of them a
	// previous process left, which leftovers reports.
	open  map[runKey]consensus.Crash
	prior map[runKey]bool
	// legacy maps runs noted by an older version, one file per run, to
	// their file, which end removes.
	legacy map[runKey]string
}

// runKey names a run: a job re-leased to the same robot is another run.
type runKey struct {
	job   string
	token uint64
}

func keyOf(c consensus.Crash) runKey { return runKey{c.JobID, c.Token} }

const (
	// journalFile is the journal's file in its directory.
	journalFile = "runs.journal"
	// compactBytes is the size past which the journal is rewritten with
	// only the open runs: a few thousand notes, a few milliseconds.
	compactBytes = 1 << 20
)

// OpenCrashJournal uses dir, creating it.
func OpenCrashJournal(dir string) (*CrashJournal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("crash journal: %w", err)
	}
	return &CrashJournal{dir: dir}, nil
}

// begin notes runs before they start, all in one write: a claim hands
// over many jobs at once, and one write for them all costs what one note
// did. Should the write fail, none of them is noted.
func (j *CrashJournal) begin(cs ...consensus.Crash) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.load(); err != nil {
		return err
	}
	if err := j.append('+', cs...); err != nil {
		return err
	}
	for _, c := range cs {
		j.open[keyOf(c)] = c
	}
	return j.compactIfDue()
}

// end forgets a run that ended, however it ended.
func (j *CrashJournal) end(c consensus.Crash) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.load(); err != nil {
		return err
	}
	k := keyOf(c)
	if path, ok := j.legacy[k]; ok {
		delete(j.legacy, k)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("crash journal: %w", err)
		}
	}
	if _, ok := j.open[k]; !ok {
		return nil
	}
	err := j.append('-', c)
	// The run ended even if its note failed (a full disk): it is
	// forgotten here, and the next compaction drops its begin note from
	// the file, lest a later process report a crash that did not happen.
	delete(j.open, k)
	delete(j.prior, k)
	if err != nil {
		j.stale = true
		return err
	}
	return j.compactIfDue()
}

// compactIfDue compacts the journal when it has grown past compactBytes
// or holds begin notes of runs whose end notes failed.
func (j *CrashJournal) compactIfDue() error {
	if j.size > compactBytes || j.stale {
		return j.compact()
	}
	return nil
}

// leftovers returns the runs noted by a process that died.
func (j *CrashJournal) leftovers() ([]consensus.Crash, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.load(); err != nil {
		return nil, err
	}
	var out []consensus.Crash
	for k := range j.prior {
		out = append(out, j.open[k])
	}
	slices.SortFunc(out, func(a, b consensus.Crash) int {
		return cmp.Or(strings.Compare(a.JobID, b.JobID), cmp.Compare(a.Token, b.Token))
	})
	return out, nil
}

// load reads what earlier processes noted, once: the journal file, whose
// last line may have been cut short as the process died (its run had not
// begun), and the one-file-per-run notes of older versions.
func (j *CrashJournal) load() error {
	if j.loaded {
		return nil
	}
	j.open, j.prior, j.legacy = map[runKey]consensus.Crash{}, map[runKey]bool{}, map[runKey]string{}
	data, err := os.ReadFile(filepath.Join(j.dir, journalFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("crash journal: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		c, op, ok := parseNote(line)
		switch {
		case !ok:
		case op == '+':
			j.open[keyOf(c)] = c
		default:
			delete(j.open, keyOf(c))
		}
	}
	if err := j.loadLegacy(); err != nil {
		return err
	}
	for k := range j.open {
		j.prior[k] = true
	}
	j.loaded = true
	return j.compact()
}

// parseNote decodes one line of the journal; ok is false for a line cut
// short or otherwise unreadable. A line that is a note cut short with a
// whole note after it (a failed write that could not be cut back, see
// append) yields the whole one: a note starts with +{" or -{", which
// cannot occur inside one, since JSON escapes a quote in a string.
func parseNote(line string) (c consensus.Crash, op byte, ok bool) {
	line, complete := strings.CutSuffix(line, "\n")
	if !complete {
		return c, 0, false
	}
	for start := len(line); start > 0; {
		start = max(strings.LastIndex(line[:start], `+{"`), strings.LastIndex(line[:start], `-{"`))
		if start < 0 {
			break
		}
		if c, ok := decodeNote(line[start+1:]); ok {
			return c, line[start], true
		}
	}
	return c, 0, false
}

func decodeNote(note string) (c consensus.Crash, ok bool) {
	if err := json.Unmarshal([]byte(note), &c); err != nil || c.JobID == "" {
		return c, false
	}
	return c, true
}

// loadLegacy adds the runs an older version noted as one JSON file each.
func (j *CrashJournal) loadLegacy() error {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return fmt.Errorf("crash journal: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		path := filepath.Join(j.dir, e.Name())
		data, err := os.ReadFile(path)
		var c consensus.Crash
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil || c.JobID == "" {
			// A note cut short as it was written: its run had not begun.
			os.Remove(path)
			continue
		}
		j.open[keyOf(c)] = c
		j.legacy[keyOf(c)] = path
	}
	return nil
}

// append writes the notes of cs, one line each, in a single write, so
// that a process that dies leaves at most its last line cut short.
//
// A write that fails part-way (a full disk) leaves a line cut short in a
// process that goes on, and the next note would run into it: a begin lost
// is a crash not counted, an end lost a crash reported that did not
// happen. So the file is cut back to where the failed note began; should
// that fail too, load still finds the next note at the end of the merged
// line (parseNote).
func (j *CrashJournal) append(op byte, cs ...consensus.Crash) error {
	lines := make([]byte, 0, len(cs)*noteBytes)
	for _, c := range cs {
		lines = appendNote(lines, op, c)
	}
	if len(lines) == 0 {
		return nil
	}
	n, err := j.f.Write(lines)
	if err == nil {
		j.size += int64(n)
		return nil
	}
	if terr := j.f.Truncate(j.size); terr != nil {
		// Whole lines of a batch may be left in the file for runs that
		// were never noted open, and so never get an end note: the next
		// compaction rewrites the file without them.
		j.size += int64(n)
		j.stale = true
		return fmt.Errorf("crash journal: %w (cutting the note back: %v)", err, terr)
	}
	return fmt.Errorf("crash journal: %w", err)
}

// noteBytes is room for a typical note: a UUID job id, a token, an
// attempt and the keys.
const noteBytes = 96

// appendNote appends a note's line: op and c as encoding/json writes it.
// Written by hand because every run costs two notes: BenchmarkCrashJournal
// went from 6 allocations a run to 2 and from 5.6-6.9 to 4.3-4.8 µs. A job
// id that JSON must escape (ids are the submitter's choice) goes through
// json.Marshal still.
func appendNote(buf []byte, op byte, c consensus.Crash) []byte {
	buf = append(buf, op)
	if !plainjson.Plain(c.JobID) {
		note, _ := json.Marshal(c) // a string, a uint64 and an int: it cannot fail
		return append(append(buf, note...), '\n')
	}
	buf = plainjson.AppendString(append(buf, `{"job_id":`...), c.JobID)
	buf = strconv.AppendUint(append(buf, `,"token":`...), c.Token, 10)
	buf = strconv.AppendInt(append(buf, `,"attempt":`...), int64(c.Attempt), 10)
	return append(buf, "}\n"...)
}

// compact rewrites the journal with the open runs only and reopens it
// for appending. The new file replaces the old one by rename, so a death
// in the middle leaves one or the other whole.
func (j *CrashJournal) compact() error {
	var buf []byte
	for _, c := range j.open {
		if _, ok := j.legacy[keyOf(c)]; ok {
			continue // noted in its own file until it ends
		}
		buf = appendNote(buf, '+', c)
	}
	path := filepath.Join(j.dir, journalFile)
	tmp := path + ".new"
	if err := os.WriteFile(tmp, buf, 0o600); err != nil {
		return fmt.Errorf("crash journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("crash journal: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("crash journal: %w", err)
	}
	if j.f != nil {
		j.f.Close() // written without fsync, so closing reports nothing new
	}
	j.f, j.size, j.stale = f, int64(len(buf)), false
	return nil
}

// Close closes the journal's file; a later note opens it again.
func (j *CrashJournal) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f, j.loaded = nil, false
	return err
}

// crashReporter is the part of a queue that takes crash reports. Queues
// that lack it (a robot that reaches the cluster only through a tunnel)
// keep their notes until a robot with such a queue uses the data dir.
type crashReporter interface {
	ReportCrash(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error)
}

// crashRetry is the pause between attempts to report crashes while no
// leader answers; the robot claims nothing until the report is through,
// or it could run the job that killed it once more before saying so.
const crashRetry = time.Second

// reportCrashes reports the runs the robot's previous process left
// unfinished, retrying until the cluster answers or ctx ends.
func (r *Robot) reportCrashes(ctx context.Context) {
	j := r.cfg.Journal
	if j == nil {
		return
	}
	rep, ok := r.queue.(crashReporter)
	if !ok {
		return
	}
	crashes, err := j.leftovers()
	if err != nil || len(crashes) == 0 {
		if err != nil {
			r.log.Warn("cannot read the crash journal", "err", err)
		}
		return
	}
	cmd := consensus.CrashCmd{RobotID: r.cfg.ID, Items: crashes}
	p := retry.Policy{First: crashRetry, Max: crashRetry, OnRetry: func(_ int, err error, _ time.Duration) {
		r.log.Warn("report crashed runs; retrying", "runs", len(crashes), "err", err)
	}}
	acks, err := retry.Do(ctx, p, func() ([]consensus.Ack, error) { return rep.ReportCrash(ctx, cmd) })
	if err != nil {
		return // the robot is stopping; the notes stay for its next start
	}
	for i, c := range crashes {
		var ack consensus.Ack
		if i < len(acks) {
			ack = acks[i]
		}
		r.log.Warn("a run of this robot died with its process", "job", c.JobID, "attempt", c.Attempt, "state", ack.State, "reason", ack.Reason)
		if err := j.end(c); err != nil {
			r.log.Warn("crash journal", "err", err)
		}
	}
}
