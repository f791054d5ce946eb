package consensus

import (
	"context"
	"time"
)

// Retention: finished jobs leave the replicated state some time after
// they finish, and, when an archive is set, only once it holds them.

// DefaultRetention is how long a finished job stays in Raft: a day of
// history for `casare jobs` and re-runs without an archive, bounded
// memory with one.
const DefaultRetention = 24 * time.Hour

// Tuning of retention.
const (
	// retentionTick is how often the leader looks for jobs to remove:
	// often enough that memory comes back steadily, rarely enough that an
	// idle cluster writes nothing (an empty look proposes no entry).
	retentionTick = time.Second
	// maxPrunePerEntry bounds one entry (ids of about 40 bytes each) far
	// below the internal request limit, so followers stream it.
	maxPrunePerEntry = 2000
)

// PruneJobsCmd removes finished jobs that finished at or before Before.
// A job that is not finished (or no longer there) is left alone, so a
// retried or late entry is harmless; so is one proposed before a restore
// and applied after it (RestoreID differs): it names the jobs of another
// state.
type PruneJobsCmd struct {
	IDs       []string  `json:"ids"`
	Before    time.Time `json:"before"`
	RestoreID string    `json:"restore_id,omitempty"`
}

func (s jobsApply) pruneJobs(_ applyContext, cmd *PruneJobsCmd) (int, error) {
	if cmd.RestoreID != s.restoreID {
		return 0, nil
	}
	n := 0
	for _, id := range cmd.IDs {
		j := s.jobs[id]
		if j == nil || !j.State.Terminal() || j.FinishedAt.After(cmd.Before) {
			continue
		}
		delete(s.jobs, id)
		s.bySeq.Delete(j)
		s.finished.Delete(j)
		s.finishes.remove(j.FinishedAt)
		s.counts.add(j.State, -1)
		if j.UniqueKey != "" && s.unique[j.UniqueKey] == id {
			delete(s.unique, j.UniqueKey)
		}
		n++
	}
	return n, nil
}

// pruneJobs removes the finished jobs past the retention window, and,
// with an archive, only those it already holds (RetainUntil).
func (s JobQueue) pruneJobs(ctx context.Context, now time.Time) {
	before := now.Add(-s.cfg.Retention)
	limit, archivedFor := ^uint64(0), ""
	if s.cfg.RetainUntil != nil {
		archivedFor, limit = s.cfg.RetainUntil()
	}
	var ids []string
	var restoreID string
	s.fsm.read(func(st *state) {
		restoreID = st.restoreID
		if s.cfg.RetainUntil != nil && archivedFor != restoreID {
			return // the archive's position counts another state's indexes
		}
		st.finished.Ascend(func(j *Job) bool {
			if j.FinishedIndex > limit || j.FinishedAt.After(before) || len(ids) == maxPrunePerEntry {
				return false // in finishing order: the rest are newer
			}
			ids = append(ids, j.ID)
			return true
		})
	})
	if len(ids) == 0 {
		return
	}
	n, err := apply[int](ctx, s.Store, cmdPruneJobs, PruneJobsCmd{IDs: ids, Before: before, RestoreID: restoreID})
	if err != nil {
		s.log.Warn("remove finished jobs past retention", "err", err)
		return
	}
	s.log.Debug("removed finished jobs past retention", "count", n)
}
