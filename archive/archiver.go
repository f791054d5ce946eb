package archive

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casare/casare/consensus"
)

// Tuning of the archiver.
const (
	// archiveInterval is how often the leader looks for new history: the
	// lag of an idle cluster, and cheap (one indexed read, one UPDATE).
	archiveInterval = 500 * time.Millisecond
	// batchJobs bounds one transaction: with up to MaxJobLogLines lines a
	// job, 1000 jobs stay well under a few tens of MB in memory and the
	// transaction commits in well under a second.
	batchJobs = 1000
	// writers is how many batches are written at once, each in its own
	// transaction on its own connection: Postgres's work on a batch
	// (indexes, tsvectors, the JSONB documents) is most of the
	// archiver's time, and one backend at a time could not keep up with
	// the cluster's end-to-end rate in make bench.
	writers = 3
	// retryInterval is the wait after Postgres failed, so that an outage
	// costs a log line a few seconds, not a busy loop.
	retryInterval = 2 * time.Second
)

// Source is what the archiver reads from the replicated state: the
// store's copy-on-read API.
type Source interface {
	FinishedFrom(from uint64, limit int) (jobs []consensus.Job, complete bool, index uint64)
	// RestoreID names the operator restore the state came from: the
	// position counts Raft indexes under one restore id only.
	RestoreID() string
	Workflows() ([]consensus.Workflow, uint64)
	Schedules(workflowID string) ([]consensus.Schedule, uint64)
	Robots() []consensus.RobotRecord
	LiveLogs(after map[string]int) []consensus.LiveLog
	// MarkLogsArchived lets the replicas drop log lines the archive
	// holds; until then they keep them (consensus/archive_logs.go).
	MarkLogsArchived(ctx context.Context, lines map[string]int) error
	// UnmarkedLogs names archived jobs whose logs no mark reached.
	UnmarkedLogs(upTo uint64) map[string]int
}

// Archiver is the leader duty that copies history into the archive.
type Archiver struct {
	db  *DB
	log *slog.Logger
	// archived is the position this node last wrote or read, with the
	// restore id it counts under, for retention and /metrics.
	archived atomic.Pointer[Position]
	jobs     atomic.Uint64 // jobs archived by this node since start
}

// Position is the archive's watermark: every job finished at or before
// Index, in the state RestoreID names, is archived.
type Position struct {
	RestoreID string
	Index     uint64
}

var _ consensus.LeaderDuty = (*Archiver)(nil)

// NewArchiver returns the duty that archives into db.
func NewArchiver(db *DB) *Archiver {
	a := &Archiver{db: db, log: db.log}
	a.archived.Store(&Position{})
	return a
}

// ArchivedPosition is the archive's position as this node last wrote or
// read it (index 0 before its first round as leader): jobs finished at
// or before it, in the state of its restore id, are in the archive, so
// Raft may let them go.
func (a *Archiver) ArchivedPosition() Position { return *a.archived.Load() }

// JobsArchived is how many jobs this node has written since it started.
func (a *Archiver) JobsArchived() uint64 { return a.jobs.Load() }

// RunAsLeader archives until ctx ends (leadership is lost or the node
// stops). A Postgres error is logged and the round retried from the
// position in Postgres, so nothing is skipped and nothing doubled.
func (a *Archiver) RunAsLeader(ctx context.Context, s *consensus.Store) {
	a.Run(ctx, s)
}

// term is what the archiver remembers between rounds, for one term of
// leadership and one state: a failed round, or a restore, starts over.
type term struct {
	restoreID string
	seen      *fingerprints
	// logged is, per running job, the number of log lines archived in
	// this term: the next round takes the lines after them.
	logged map[string]int
	// swept is whether this term has marked the jobs an earlier archiver
	// wrote but could not mark (it lost leadership in between).
	swept bool
	// legacyDone is whether this term has written the jobs from snapshots
	// older than FinishedIndex, which all carry index 0: a position of 0
	// cannot say so, and reading from 0 again would return them again.
	legacyDone bool
}

func newTerm(restoreID string) *term {
	return &term{restoreID: restoreID, seen: newFingerprints(), logged: map[string]int{}}
}

// Run is RunAsLeader on any Source.
func (a *Archiver) Run(ctx context.Context, src Source) {
	a.log.Info("archiver started")
	defer a.log.Info("archiver stopped")
	t := newTerm(src.RestoreID())
	wait := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = archiveInterval
		if id := src.RestoreID(); id != t.restoreID {
			// What this term remembers is of the state before the restore.
			t = newTerm(id)
		}
		if err := a.round(ctx, src, t); err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("archiving failed; retrying", "err", err, "retry_in", retryInterval)
			t = newTerm(t.restoreID) // what failed may not have been written, nor marked
			wait = retryInterval
		}
	}
}

// round writes what changed since the last round and every job finished
// after the position in Postgres, a few batches at a time.
func (a *Archiver) round(ctx context.Context, src Source, t *term) error {
	if err := a.liveLogs(ctx, src, t.logged); err != nil {
		return err
	}
	pos, err := a.db.Realign(ctx, t.restoreID)
	if err != nil {
		return err
	}
	a.archived.Store(&Position{RestoreID: t.restoreID, Index: pos})
	if !t.swept {
		if err := src.MarkLogsArchived(ctx, src.UnmarkedLogs(pos)); err != nil {
			return fmt.Errorf("mark the logs of archived jobs: %w", err)
		}
		t.swept = true
	}
	for {
		batches, complete := readBatches(src, pos, t)
		// Read after the jobs, the workflows, schedules and robots include
		// every one these jobs name, so the archive never holds a job whose
		// workflow it lacks (search and statistics join the two).
		if err := a.db.WriteMeta(ctx, t.seen.changed(src)); err != nil {
			return err
		}
		if len(batches) == 0 {
			return nil
		}
		written, err := a.writeBatches(ctx, t.restoreID, batches)
		if written > 0 {
			if err := a.advance(ctx, src, t, batches[:written]); err != nil {
				return err
			}
			pos = max(pos, batches[written-1].upTo)
			// The first batch, read from 0 while the position was 0,
			// held every job at index 0 (FinishedFrom returns all of an
			// index it reaches).
			t.legacyDone = true
		}
		if err != nil {
			return err
		}
		if complete {
			return nil
		}
	}
}

// batch is one transaction's worth of finished jobs: every job finished
// after the previous batch's upTo and at or before its own.
type batch struct {
	jobs []consensus.Job
	upTo uint64
	// long is what longLogs found before the lines archived while the
	// jobs ran were trimmed off.
	long map[string]int
}

// readBatches reads up to writers batches of jobs finished after pos (and
// at index 0 until this term has written those), and
// whether they reach the end of what Raft has finished (the last batch
// may then hold no job and only move the position to the applied index).
func readBatches(src Source, pos uint64, t *term) ([]batch, bool) {
	var batches []batch
	for range writers {
		from := pos + 1
		if pos == 0 && !t.legacyDone {
			from = 0 // jobs from snapshots older than FinishedIndex carry 0
		}
		jobs, complete, applied := src.FinishedFrom(from, batchJobs)
		b := batch{jobs: jobs, upTo: applied, long: longLogs(jobs)}
		if !complete {
			b.upTo = jobs[len(jobs)-1].FinishedIndex
		}
		trimLogged(b.jobs, t.logged)
		if b.upTo > pos || len(jobs) > 0 {
			batches = append(batches, b)
		}
		if complete {
			return batches, true
		}
		if b.upTo <= pos {
			// Jobs from old snapshots all carry index 0: the next read
			// would return the same ones, to be written side by side.
			return batches, false
		}
		pos = b.upTo
	}
	return batches, false
}

// writeBatches writes the batches side by side, one connection each, and
// returns how many of them, counted from the first, are written: the
// position may move past those only, since a batch written after one
// that failed is not yet covered by a contiguous range.
func (a *Archiver) writeBatches(ctx context.Context, restoreID string, batches []batch) (int, error) {
	start := time.Now()
	errs := make([]error, len(batches))
	var wg sync.WaitGroup
	for i, b := range batches {
		wg.Go(func() { errs[i] = a.db.WriteBatch(ctx, restoreID, b.jobs) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			b := batches[i]
			return i, fmt.Errorf("archive %d jobs up to raft index %d: %w", len(b.jobs), b.upTo, err)
		}
	}
	a.log.Debug("archived jobs", "batches", len(batches), "up_to", batches[len(batches)-1].upTo, "took", time.Since(start))
	return len(batches), nil
}

// advance moves the position past the written batches, then lets the
// replicas drop the long logs these jobs kept for the archive, and only
// then publishes the position to retention: Advance returns once the
// rows are on disk.
func (a *Archiver) advance(ctx context.Context, src Source, t *term, done []batch) error {
	upTo := done[len(done)-1].upTo
	if err := a.db.Advance(ctx, t.restoreID, upTo); err != nil {
		return err
	}
	for _, b := range done {
		if len(b.long) > 0 {
			if err := src.MarkLogsArchived(ctx, b.long); err != nil {
				return fmt.Errorf("mark the logs of %d finished jobs archived: %w", len(b.long), err)
			}
		}
		a.jobs.Add(uint64(len(b.jobs)))
		for _, j := range b.jobs {
			delete(t.logged, j.ID)
		}
	}
	a.archived.Store(&Position{RestoreID: t.restoreID, Index: upTo})
	return nil
}

// liveLogs archives the new log lines of running jobs, then tells the
// replicas they may drop them. Until then they keep them, up to
// consensus.MaxUnarchivedLogLines a job: only a job that logs more than
// that while the archive is behind (Postgres down) loses lines, and the
// loss is logged.
func (a *Archiver) liveLogs(ctx context.Context, src Source, logged map[string]int) error {
	live := src.LiveLogs(logged)
	if err := a.db.WriteLiveLogs(ctx, live); err != nil {
		return fmt.Errorf("archive the logs of running jobs: %w", err)
	}
	marks := make(map[string]int, len(live))
	for _, l := range live {
		if had, ok := logged[l.JobID]; ok && l.First > had {
			a.log.Warn("log lines left raft before they could be archived", "job", l.JobID, "lines", l.First-had)
		}
		logged[l.JobID] = l.First + len(l.Lines)
		marks[l.JobID] = logged[l.JobID]
	}
	if err := src.MarkLogsArchived(ctx, marks); err != nil {
		return fmt.Errorf("mark the logs of %d running jobs archived: %w", len(marks), err)
	}
	return nil
}

// longLogs names the finished jobs that keep more lines than Raft's
// window only because the archive did not hold them yet, with their line
// counts: once written, they can shrink to the window.
func longLogs(jobs []consensus.Job) map[string]int {
	long := map[string]int{}
	for _, j := range jobs {
		if len(j.Logs) > consensus.MaxJobLogLines {
			long[j.ID] = j.LogsDropped + len(j.Logs)
		}
	}
	return long
}

// trimLogged drops from finished jobs the log lines already archived
// while they ran, so the batch's COPY finds no line twice.
func trimLogged(jobs []consensus.Job, logged map[string]int) {
	for i := range jobs {
		j := &jobs[i]
		if k := min(logged[j.ID]-j.LogsDropped, len(j.Logs)); k > 0 {
			j.Logs = j.Logs[k:]
			j.LogsDropped += k
		}
	}
}

// fingerprints remembers what the archiver last wrote of the small
// tables, so that a round writes only what changed. It lives for one
// term: a new leader writes everything once.
type fingerprints struct {
	workflows map[string]consensus.Workflow
	schedules map[string]consensus.Schedule
	robots    map[string]consensus.RobotRecord
}

func newFingerprints() *fingerprints {
	return &fingerprints{
		workflows: map[string]consensus.Workflow{},
		schedules: map[string]consensus.Schedule{},
		robots:    map[string]consensus.RobotRecord{},
	}
}

// changed returns what differs from the last call and remembers it.
func (f *fingerprints) changed(src Source) Meta {
	var m Meta
	wfs, _ := src.Workflows()
	for _, wf := range wfs {
		if old, ok := f.workflows[wf.ID]; !ok || !reflect.DeepEqual(old, wf) {
			m.Workflows = append(m.Workflows, wf)
			f.workflows[wf.ID] = wf
		}
	}
	scs, _ := src.Schedules("")
	for _, sc := range scs {
		if old, ok := f.schedules[sc.ID]; !ok || !reflect.DeepEqual(old, sc) {
			m.Schedules = append(m.Schedules, sc)
			f.schedules[sc.ID] = sc
		}
	}
	for _, r := range src.Robots() {
		if old, ok := f.robots[r.ID]; !ok || !reflect.DeepEqual(old, r) {
			m.Robots = append(m.Robots, r)
			f.robots[r.ID] = r
		}
	}
	return m
}
