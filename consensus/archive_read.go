package consensus

import "context"

// LeaderDuty is work that only the leader does, started after the
// leader's barrier and stopped (ctx cancelled, then waited for) when
// leadership ends. Packages outside consensus (the archive) hook in
// through it; Run must return soon after ctx ends.
type LeaderDuty interface {
	RunAsLeader(ctx context.Context, s *Store)
}

// FinishedFrom returns copies of the finished jobs whose FinishedIndex is
// at least from, in (FinishedIndex, id) order: at least limit of them
// when there are, and always every job of the last entry it reaches, so a
// reader that resumes after the last FinishedIndex misses none. complete
// says the answer reaches the end: every job finished at or before index
// is in it or before from. Copies: applies go on while the caller works.
func (s *Store) FinishedFrom(from uint64, limit int) (jobs []Job, complete bool, index uint64) {
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
