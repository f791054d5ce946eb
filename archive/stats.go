package archive

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// WorkflowStat is one row of the workflow_stats view.
type WorkflowStat struct {
	WorkflowID      string   `json:"workflow_id"`
	WorkflowName    string   `json:"workflow_name"`
	WorkflowVersion int      `json:"workflow_version"`
	Runs            int64    `json:"runs"`
	Succeeded       int64    `json:"succeeded"`
	Failed          int64    `json:"failed"`
	SuccessRate     float64  `json:"success_rate"`
	P50Seconds      *float64 `json:"p50_seconds"`
	P95Seconds      *float64 `json:"p95_seconds"`
}

// QueueStat is one row of the queue_stats view.
type QueueStat struct {
	ExecutionMode  string   `json:"execution_mode"`
	Priority       int      `json:"priority"`
	Jobs           int64    `json:"jobs"`
	Succeeded      int64    `json:"succeeded"`
	P50WaitSeconds *float64 `json:"p50_wait_seconds"`
	P95WaitSeconds *float64 `json:"p95_wait_seconds"`
}

// RobotStat is one row of the robot_stats view.
type RobotStat struct {
	RobotID        string     `json:"robot_id"`
	Attempts       int64      `json:"attempts"`
	Succeeded      int64      `json:"succeeded"`
	NotSucceeded   int64      `json:"not_succeeded"`
	BusySeconds    float64    `json:"busy_seconds"`
	LastFinishedAt *time.Time `json:"last_finished_at"`
}

// Stats is the three statistics views together.
type Stats struct {
	Workflows []WorkflowStat `json:"workflows"`
	Queue     []QueueStat    `json:"queue"`
	Robots    []RobotStat    `json:"robots"`
	// Position is the Raft index the archive covers.
	Position uint64 `json:"archived_index"`
}

// Stats reads the statistics views.
func (db *DB) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var err error
	if st.Workflows, err = view[WorkflowStat](ctx, db, `SELECT workflow_id, workflow_name, workflow_version, runs, succeeded, failed,
		success_rate, p50_seconds, p95_seconds FROM workflow_stats ORDER BY workflow_name, workflow_id, workflow_version`); err != nil {
		return st, err
	}
	if st.Queue, err = view[QueueStat](ctx, db, `SELECT execution_mode, priority, jobs, succeeded, p50_wait_seconds, p95_wait_seconds
		FROM queue_stats ORDER BY execution_mode, priority DESC`); err != nil {
		return st, err
	}
	if st.Robots, err = view[RobotStat](ctx, db, `SELECT robot_id, attempts, succeeded, not_succeeded, busy_seconds::float8, last_finished_at
		FROM robot_stats ORDER BY robot_id`); err != nil {
		return st, err
	}
	st.Position, err = db.Position(ctx)
	return st, err
}

func view[T any](ctx context.Context, db *DB, q string) ([]T, error) {
	rows, err := db.pool.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[T])
	if err != nil {
		return nil, fmt.Errorf("read statistics: %w", err)
	}
	if out == nil {
		out = []T{}
	}
	return out, nil
}
