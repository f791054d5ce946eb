package archive

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/consensus"
)

// Meta is the part of the replicated state that is not jobs: small, and
// written whole when it changed.
type Meta struct {
	Workflows []consensus.Workflow
	Schedules []consensus.Schedule
	Robots    []consensus.RobotRecord
}

// WriteMeta upserts workflows (a new version is added, never changed),
// schedules with the fires their history holds, and robots, in one
// transaction.
func (db *DB) WriteMeta(ctx context.Context, m Meta) error {
	b := &pgx.Batch{}
	for _, wf := range m.Workflows {
		queueWorkflow(b, wf)
	}
	for _, sc := range m.Schedules {
		queueSchedule(b, sc)
	}
	for _, r := range m.Robots {
		b.Queue(`INSERT INTO robots (id, kind, node, tags, capacity, connected, since) VALUES ($1,$2,$3,$4,$5,$6,$7)
			ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, node = excluded.node, tags = excluded.tags,
			capacity = excluded.capacity, connected = excluded.connected, since = excluded.since`,
			r.ID, r.Kind, r.Node, nonNil(r.Tags), r.Capacity, r.Connected, r.Since)
	}
	if b.Len() == 0 {
		return nil
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("archive workflows, schedules and robots: %w", err)
		}
		return nil
	})
}

func queueWorkflow(b *pgx.Batch, wf consensus.Workflow) {
	desc, types := describe(wf.Latest().Graph)
	b.Queue(`INSERT INTO workflows (id, name, description, tags, node_types, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, tags = excluded.tags,
		node_types = excluded.node_types, updated_at = excluded.updated_at`,
		wf.ID, wf.Name, desc, nonNil(wf.Tags), types, wf.CreatedAt, wf.UpdatedAt)
	for _, v := range wf.Versions {
		b.Queue(`INSERT INTO workflow_versions (workflow_id, version, graph, checksum, created_at) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT DO NOTHING`, wf.ID, v.Version, string(v.Graph), v.Checksum, v.CreatedAt)
	}
}

func queueSchedule(b *pgx.Batch, sc consensus.Schedule) {
	hist := sc.History
	sc.History = nil               // in schedule_fires
	sc.Template.SealedParams = nil // the archive keeps no secret, sealed or not
	doc, _ := json.Marshal(sc)     // a Schedule always encodes: Raft stored it as JSON
	b.Queue(`INSERT INTO schedules (id, workflow_id, cron, timezone, enabled, misfire, overlap, last_fired, created_at, updated_at, doc)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)
		ON CONFLICT (id) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone, enabled = excluded.enabled,
		misfire = excluded.misfire, overlap = excluded.overlap, last_fired = excluded.last_fired,
		updated_at = excluded.updated_at, doc = excluded.doc`,
		sc.ID, sc.WorkflowID, sc.Cron, sc.Timezone, sc.Enabled, sc.Misfire, sc.Overlap, nullTime(sc.LastFired),
		sc.CreatedAt, sc.UpdatedAt, doc)
	for _, f := range hist {
		b.Queue(`INSERT INTO schedule_fires (schedule_id, fire_time, manual, job_id, skipped, queued_at) VALUES ($1,$2,$3,$4,$5,$6)
			ON CONFLICT DO NOTHING`, sc.ID, f.FireTime, f.Manual, nullString(f.JobID), nullString(f.Skipped), f.QueuedAt)
	}
}

// describe reads what search needs from a workflow graph: its
// description and the distinct node types it uses. A graph Raft accepted
// was validated, but search must not fail on one it cannot read.
func describe(graph json.RawMessage) (description, nodeTypes string) {
	var g struct {
		Description string `json:"description"`
		Nodes       []struct {
			Type string `json:"type"`
		} `json:"nodes"`
	}
	_ = json.Unmarshal(graph, &g)
	var types []string
	for _, n := range g.Nodes {
		if !slices.Contains(types, n.Type) {
			types = append(types, n.Type)
		}
	}
	slices.Sort(types)
	return g.Description, strings.Join(types, " ")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
