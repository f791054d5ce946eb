package consensus

import (
	"context"
	"slices"
	"time"
)

// LeaderDuty is work that only the leader does, started after the
// leader's barrier and stopped (ctx cancelled, then waited for) when
// leadership ends. Packages outside consensus (the archive) hook in
// through it; Run must return soon after ctx ends.
type LeaderDuty interface {
	RunAsLeader(ctx context.Context, s *Store)
}

// RestoreID names the operator restore the state last came from ("" for
// a state never restored). The finished jobs' FinishedIndex counts in the
// Raft log of the cluster they finished on, so a position kept outside
// the state (the archive's) is only valid with the restore id it was
// taken under: a new one means the indexes started over.
func (s JobQueue) RestoreID() string {
	var id string
	s.fsm.read(func(st *state) { id = st.restoreID })
	return id
}

// FinishedAfter counts the finished jobs whose FinishedIndex is above
// index, and returns the FinishedAt of the first of them (zero when there
// is none): how far, in jobs and in time, a reader at index is behind. It
// walks only those jobs, so it costs what the lag is.
func (s JobQueue) FinishedAfter(index uint64) (jobs int, oldest time.Time) {
	s.fsm.read(func(st *state) {
		st.finished.AscendGreaterOrEqual(&Job{FinishedIndex: index + 1}, func(j *Job) bool {
			if jobs == 0 {
				oldest = j.FinishedAt
			}
			jobs++
			return true
		})
	})
	return jobs, oldest
}

// FinishedFrom returns copies of the finished jobs whose FinishedIndex is
// at least from, in (FinishedIndex, id) order: at least limit of them
// when there are, and always every job of the last entry it reaches, so a
// reader that resumes after the last FinishedIndex misses none. complete
// says the answer reaches the end: every job finished at or before index
// is in it or before from. Copies: applies go on while the caller works.
func (s JobQueue) FinishedFrom(from uint64, limit int) (jobs []Job, complete bool, index uint64) {
	complete = true
	index = s.fsm.read(func(st *state) {
		st.finished.AscendGreaterOrEqual(&Job{FinishedIndex: from}, func(j *Job) bool {
			if len(jobs) >= limit && j.FinishedIndex != jobs[len(jobs)-1].FinishedIndex {
				complete = false
				return false
			}
			c := cloneJob(j)
			c.Logs = append([]LogLine(nil), j.Logs...)
			jobs = append(jobs, c)
			return true
		})
	})
	return jobs, complete, index
}

// LiveLog is the part of a running job's log Raft keeps.
type LiveLog struct {
	JobID    string
	Attempts []Attempt
	// First is the number (from 0) of Lines[0] in the whole log.
	First int
	Lines []LogLine
}

// LiveLogs returns copies of the kept log lines of running jobs numbered
// from (a job's entry in) after on, so the archive can take lines before
// they leave Raft's window. A job absent from after gets all its lines.
func (s JobQueue) LiveLogs(after map[string]int) []LiveLog {
	var out []LiveLog
	s.fsm.read(func(st *state) {
		for _, j := range st.running {
			end := j.LogsDropped + len(j.Logs)
			from := max(after[j.ID], j.LogsDropped)
			if from >= end {
				continue
			}
			out = append(out, LiveLog{
				JobID: j.ID, Attempts: slices.Clone(j.Attempts), First: from,
				Lines: slices.Clone(j.Logs[from-j.LogsDropped:]),
			})
		}
	})
	return out
}
