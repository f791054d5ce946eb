package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/casare/casare/consensus"
)

// Position returns the archive's watermark: every job finished at or
// before this Raft index is archived.
func (db *DB) Position(ctx context.Context) (uint64, error) {
	var idx int64
	if err := db.pool.QueryRow(ctx, `SELECT raft_index FROM position`).Scan(&idx); err != nil {
		return 0, fmt.Errorf("read archive position: %w", err)
	}
	return uint64(idx), nil
}

// ErrAnotherState is returned by WriteJobs when the position in Postgres
// was realigned for a restore id other than the writer's: the writer
// reads a state from before (or after) an operator restore, whose Raft
// indexes do not count in the position's.
var ErrAnotherState = errors.New("the archive position counts another restore's raft indexes")

// Realign returns the position for the state restoreID names: the
// position as it is when it was kept under that id, else 0 after
// resetting it to 0 under that id. An operator restore brings jobs that
// carry the Raft indexes of the cluster they were saved on, below or
// above this cluster's position alike; from 0 the archiver reads every
// finished job in Raft again, and the ones already archived are skipped
// by id (WriteJobs), so a restored job is archived exactly once.
func (db *DB) Realign(ctx context.Context, restoreID string) (uint64, error) {
	var idx int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var had string
		if err := tx.QueryRow(ctx, `SELECT raft_index, restore_id FROM position FOR UPDATE`).Scan(&idx, &had); err != nil {
			return err
		}
		if had == restoreID {
			return nil
		}
		db.log.Info("cluster state restored: archiving its finished jobs again from the start", "restore_id", restoreID, "old_position", idx)
		idx = 0
		_, err := tx.Exec(ctx, `UPDATE position SET raft_index = 0, restore_id = $1, updated_at = now()`, restoreID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("read archive position: %w", err)
	}
	return uint64(idx), nil
}

// WriteJobs archives finished jobs with their attempts and log lines and
// then moves the position to upTo: WriteBatch followed by Advance.
func (db *DB) WriteJobs(ctx context.Context, restoreID string, jobs []consensus.Job, upTo uint64) error {
	if err := db.WriteBatch(ctx, restoreID, jobs); err != nil {
		return err
	}
	return db.Advance(ctx, restoreID, upTo)
}

// WriteBatch archives finished jobs with their attempts and log lines in
// one transaction, leaving the position as it is; several batches may be
// written at once, on connections of their own. restoreID names the
// state the jobs were read from; a position realigned for another is
// ErrAnotherState, and nothing is written. The transaction share-locks
// the position row, so batches run side by side while a position move
// (Advance, Realign) waits for them; jobs at or below the locked position
// are already there and are skipped, the rest are new and go in with a
// plain COPY. Should a row exist anyway (an earlier leader's batch whose
// position move did not happen, or a job from a snapshot older than
// FinishedIndex), the batch is written again with upserts that leave
// existing rows as they are: a finished job never changes, so writing a
// job twice doubles nothing.
func (db *DB) WriteBatch(ctx context.Context, restoreID string, jobs []consensus.Job) error {
	err := db.writeBatch(ctx, restoreID, jobs, copyInto)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		db.log.Info("archived jobs found again; writing the batch with upserts", "jobs", len(jobs))
		err = db.writeBatch(ctx, restoreID, jobs, copyUpsert)
	}
	return err
}

// uniqueViolation is Postgres's SQLSTATE for a duplicate key.
const uniqueViolation = "23505"

// writeFunc writes rows into table, whose primary key is key.
type writeFunc func(ctx context.Context, tx pgx.Tx, table string, cols []string, key string, rows [][]any) error

func (db *DB) writeBatch(ctx context.Context, restoreID string, jobs []consensus.Job, write writeFunc) error {
	if len(jobs) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// Waiting for the WAL flush is not needed here: the position that
		// covers these rows moves later, in a transaction that does wait
		// (Advance), and the WAL is flushed in order, so a crash that
		// loses this commit loses every later position move with it and
		// the archiver writes the rows again from Raft.
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("archive transaction: %w", err)
		}
		var pos int64
		var posFor string
		if err := tx.QueryRow(ctx, `SELECT raft_index, restore_id FROM position FOR SHARE`).Scan(&pos, &posFor); err != nil {
			return fmt.Errorf("lock archive position: %w", err)
		}
		if posFor != restoreID {
			return fmt.Errorf("%w (position's %q, these jobs' %q)", ErrAnotherState, posFor, restoreID)
		}
		if pos > 0 {
			jobs = slices.DeleteFunc(slices.Clone(jobs), func(j consensus.Job) bool { return j.FinishedIndex <= uint64(pos) })
		}
		if len(jobs) == 0 {
			return nil
		}
		if err := write(ctx, tx, "jobs", jobColumns, "id", jobRows(jobs)); err != nil {
			return err
		}
		if err := write(ctx, tx, "job_attempts", attemptColumns, "job_id, run", attemptRows(jobs)); err != nil {
			return err
		}
		return write(ctx, tx, "job_logs", logColumns, "job_id, line_no", logRows(jobs))
	})
}

// Advance moves the position to upTo once every job finished at or
// before upTo is written (WriteBatch returned for each). It commits
// synchronously: when it returns, the position and, the WAL being
// flushed in order, every batch committed before it are on disk, so
// retention may let those jobs leave Raft. The position only ever grows;
// a position realigned for another restore id is ErrAnotherState.
func (db *DB) Advance(ctx context.Context, restoreID string, upTo uint64) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = on`); err != nil {
			return err
		}
		var posFor string
		if err := tx.QueryRow(ctx, `SELECT restore_id FROM position FOR UPDATE`).Scan(&posFor); err != nil {
			return err
		}
		if posFor != restoreID {
			return fmt.Errorf("%w (position's %q, these jobs' %q)", ErrAnotherState, posFor, restoreID)
		}
		_, err := tx.Exec(ctx, `UPDATE position SET raft_index = $1, updated_at = now() WHERE raft_index < $1`, int64(upTo))
		return err
	})
	if err != nil {
		return fmt.Errorf("move archive position to %d: %w", upTo, err)
	}
	return nil
}

// copyInto copies rows straight into table: the fast path, for rows
// that are new.
func copyInto(ctx context.Context, tx pgx.Tx, table string, cols []string, _ string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy %d rows into %s: %w", len(rows), table, err)
	}
	return nil
}

// copyUpsert copies rows into a staging table shaped like table and
// inserts them from there, skipping keys the table already has: COPY's
// speed with an upsert's idempotence.
func copyUpsert(ctx context.Context, tx pgx.Tx, table string, cols []string, key string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	stage := "stage_" + table
	if _, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`, stage, table)); err != nil {
		return fmt.Errorf("stage %s: %w", table, err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, cols, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy %d rows into %s: %w", len(rows), table, err)
	}
	list := strings.Join(cols, ", ")
	q := fmt.Sprintf(`INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT (%s) DO NOTHING`, table, list, list, stage, key)
	if _, err := tx.Exec(ctx, q); err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return nil
}

var jobColumns = []string{
	"id", "seq", "workflow_id", "workflow_version", "state", "priority", "execution_mode", "robot_id",
	"attempt", "max_attempts", "error", "failure_kind", "schedule_id", "created_at", "started_at",
	"finished_at", "raft_index", "doc",
}

func jobRows(jobs []consensus.Job) [][]any {
	rows := make([][]any, len(jobs))
	for i, j := range jobs {
		doc := j
		if j.JobRun != nil {
			run := *j.JobRun // doc shares j's JobRun, which logRows still reads
			run.Logs = nil   // in job_logs, complete
			doc.JobRun = &run
		}
		doc.SealedParams = nil    // the archive keeps no secret, sealed or not
		b, _ := json.Marshal(doc) // a Job always encodes: Raft stored it as JSON
		rows[i] = []any{
			j.ID, int64(j.Seq), j.WorkflowID, j.WorkflowVersion, string(j.State), j.Priority, j.ExecutionMode,
			nullString(j.RobotID), j.Attempt, j.MaxAttempts, nullString(j.Error), nullString(j.FailureKind),
			nullString(j.ScheduleID), j.CreatedAt, nullTime(j.StartedAt), j.FinishedAt, int64(j.FinishedIndex), b,
		}
	}
	return rows
}

var attemptColumns = []string{"job_id", "run", "attempt", "robot_id", "started_at", "finished_at", "outcome", "error"}

// attemptRows numbers a job's runs from 1: a run that lost its robot and
// the run after it share an attempt number (migration 4).
func attemptRows(jobs []consensus.Job) [][]any {
	var rows [][]any
	for _, j := range jobs {
		for i, a := range j.Attempts {
			rows = append(rows, []any{j.ID, i + 1, a.Attempt, a.RobotID, a.StartedAt, nullTime(a.FinishedAt), nullString(a.Outcome), nullString(a.Error)})
		}
	}
	return rows
}

var logColumns = []string{"job_id", "line_no", "attempt", "time", "level", "node_id", "message"}

func logRows(jobs []consensus.Job) [][]any {
	var rows [][]any
	for _, j := range jobs {
		for i, l := range j.Logs {
			rows = append(rows, logRow(j.ID, j.LogsDropped+i, j.Attempts, l))
		}
	}
	return rows
}

func logRow(jobID string, lineNo int, attempts []consensus.Attempt, l consensus.LogLine) []any {
	return []any{jobID, lineNo, attemptAt(attempts, l.Time), l.Time, l.Level, nullString(l.NodeID), l.Message}
}

// WriteLiveLogs archives the lines of running jobs, so that a long log
// is complete in the archive although Raft keeps only its newest lines.
// Lines already there are skipped.
func (db *DB) WriteLiveLogs(ctx context.Context, logs []consensus.LiveLog) error {
	var rows [][]any
	for _, l := range logs {
		for i, line := range l.Lines {
			rows = append(rows, logRow(l.JobID, l.First+i, l.Attempts, line))
		}
	}
	if len(rows) == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return copyUpsert(ctx, tx, "job_logs", logColumns, "job_id, line_no", rows)
	})
}

// attemptAt says which attempt was running at t: the last one that had
// started by then (lines carry no attempt number of their own).
func attemptAt(attempts []consensus.Attempt, t time.Time) int {
	n := 1
	for _, a := range attempts {
		if !a.StartedAt.After(t) {
			n = a.Attempt
		}
	}
	return n
}

func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
