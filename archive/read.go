package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/consensus"
)

// JobQuery selects archived jobs, newest first (by submission order).
type JobQuery struct {
	// Text is a full-text query over the job's log lines and error.
	Text       string
	State      consensus.JobState
	WorkflowID string
	// BeforeSeq, when not 0, lists only jobs submitted before that one.
	BeforeSeq uint64
	Limit     int
}

// Job returns an archived job (without its log, which Logs reads).
func (db *DB) Job(ctx context.Context, id string) (consensus.Job, bool, error) {
	var doc []byte
	err := db.pool.QueryRow(ctx, `SELECT doc FROM jobs WHERE id = $1`, id).Scan(&doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return consensus.Job{}, false, nil
	}
	if err != nil {
		return consensus.Job{}, false, fmt.Errorf("read job %s from the archive: %w", id, err)
	}
	var j consensus.Job
	if err := json.Unmarshal(doc, &j); err != nil {
		return consensus.Job{}, false, fmt.Errorf("decode archived job %s: %w", id, err)
	}
	return j, true, nil
}

// Jobs lists archived jobs matching q, newest first.
func (db *DB) Jobs(ctx context.Context, q JobQuery) ([]consensus.Job, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT j.doc FROM jobs j
		WHERE ($1 = '' OR j.state = $1)
		  AND ($2 = '' OR j.workflow_id = $2)
		  AND ($3 = 0 OR j.seq < $3)
		  AND ($4 = '' OR to_tsvector('simple', coalesce(j.error, '')) @@ websearch_to_tsquery('simple', $4)
		       OR EXISTS (SELECT 1 FROM job_logs l WHERE l.job_id = j.id AND l.search @@ websearch_to_tsquery('simple', $4)))
		ORDER BY j.seq DESC
		LIMIT $5`, string(q.State), q.WorkflowID, int64(q.BeforeSeq), q.Text, q.Limit)
	if err != nil {
		return nil, fmt.Errorf("list archived jobs: %w", err)
	}
	docs, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		return nil, fmt.Errorf("list archived jobs: %w", err)
	}
	jobs := make([]consensus.Job, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d, &jobs[i]); err != nil {
			return nil, fmt.Errorf("decode archived job: %w", err)
		}
	}
	return jobs, nil
}

// Logs returns up to limit lines of a job's complete archived log from
// offset, and how many lines it has.
func (db *DB) Logs(ctx context.Context, jobID string, offset, limit int) ([]consensus.LogLine, int, error) {
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM job_logs WHERE job_id = $1`, jobID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count archived log lines of job %s: %w", jobID, err)
	}
	rows, err := db.pool.Query(ctx, `SELECT time, level, coalesce(node_id, ''), message FROM job_logs
		WHERE job_id = $1 ORDER BY line_no OFFSET $2 LIMIT $3`, jobID, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("read archived log of job %s: %w", jobID, err)
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (consensus.LogLine, error) {
		var l consensus.LogLine
		err := r.Scan(&l.Time, &l.Level, &l.NodeID, &l.Message)
		return l, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("read archived log of job %s: %w", jobID, err)
	}
	return lines, total, nil
}

// WorkflowHit is one workflow that matched a search.
type WorkflowHit struct {
	ID   string  `json:"id"`
	Name string  `json:"name"`
	Rank float32 `json:"rank"`
}

// SearchWorkflows finds workflows by name, description and node types,
// best match first. text is a web-search style query ("http -shell").
func (db *DB) SearchWorkflows(ctx context.Context, text string, limit int) ([]WorkflowHit, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, name, ts_rank(search, q) AS rank
		FROM workflows, websearch_to_tsquery('simple', $1) q
		WHERE search @@ q OR search @@ websearch_to_tsquery('english', $1)
		ORDER BY rank DESC, name LIMIT $2`, text, limit)
	if err != nil {
		return nil, fmt.Errorf("search archived workflows: %w", err)
	}
	hits, err := pgx.CollectRows(rows, pgx.RowToStructByPos[WorkflowHit])
	if err != nil {
		return nil, fmt.Errorf("search archived workflows: %w", err)
	}
	return hits, nil
}
