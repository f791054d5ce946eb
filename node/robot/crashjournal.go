package robot

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
)

// CrashJournal notes in a robot's data dir the runs it has begun and not
// yet ended, one small file per run. A process that dies in the middle of
// a run leaves its file behind; when the robot comes back it reports those
// runs as crashed, and the leader declares a job that crashed its robots
// twice dead instead of handing it to the next robot. A robot that was
// only cut off, or declared dead by gossip while it went on, ends its runs
// normally and reports no crash.
//
// Files are written without fsync: what must survive is the death of the
// process, and the kernel keeps written data when a process dies. Only a
// crash of the whole machine loses a note, and that was not the job's
// doing anyway.
type CrashJournal struct {
	dir string
}

// OpenCrashJournal uses dir, creating it.
func OpenCrashJournal(dir string) (*CrashJournal, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("crash journal: %w", err)
	}
	return &CrashJournal{dir: dir}, nil
}

// path names a run's note by job and fencing token: a job re-leased to
// the same robot is a different run.
func (j *CrashJournal) path(c consensus.Crash) string {
	return filepath.Join(j.dir, fmt.Sprintf("%s-%d.json", hex.EncodeToString([]byte(c.JobID)), c.Token))
}

// begin notes a run before it starts.
func (j *CrashJournal) begin(c consensus.Crash) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return os.WriteFile(j.path(c), data, 0o600)
}

// end forgets a run that ended, however it ended.
func (j *CrashJournal) end(c consensus.Crash) error {
	err := os.Remove(j.path(c))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// leftovers returns the runs noted by a process that died.
func (j *CrashJournal) leftovers() ([]consensus.Crash, error) {
	entries, err := os.ReadDir(j.dir)
	if err != nil {
		return nil, fmt.Errorf("crash journal: %w", err)
	}
	var out []consensus.Crash
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(j.dir, e.Name()))
		var c consensus.Crash
		if err == nil {
			err = json.Unmarshal(data, &c)
		}
		if err != nil || c.JobID == "" {
			// A note cut short as it was written: its run had not begun.
			os.Remove(filepath.Join(j.dir, e.Name()))
			continue
		}
		out = append(out, c)
	}
	return out, nil
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

// noteRun notes a run in the journal before it starts and returns what
// forgets it when the run ends.
func (r *Robot) noteRun(job consensus.Job) func() {
	j := r.cfg.Journal
	if j == nil {
		return func() {}
	}
	c := consensus.Crash{JobID: job.ID, Token: job.Lease.Token, Attempt: job.Attempt}
	if err := j.begin(c); err != nil {
		// The run goes ahead: losing the note only loses the crash
		// count if this run kills the process.
		r.log.Warn("crash journal: cannot note a run", "job", job.ID, "err", err)
	}
	return func() {
		if err := j.end(c); err != nil {
			r.log.Warn("crash journal: cannot forget a run", "job", job.ID, "err", err)
		}
	}
}
