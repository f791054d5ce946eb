package consensus

import "context"

// Log lines and the archive. Raft keeps the newest MaxJobLogLines of each
// job's log; the archive keeps all of them. The archiver copies running
// jobs' lines every round, but a round can run late (a busy leader, a
// slow Postgres), and a job that logs faster than that would lose lines
// between two rounds. So, once an archiver runs, the replicas keep a
// job's lines until the archiver has said it holds them (LogsArchivedCmd),
// up to MaxUnarchivedLogLines: an archive that is down for long costs
// bounded memory, and the lines beyond that bound are the ones lost (the
// archiver logs how many). A leader that has no archive configured turns
// the keeping off again (StopKeepingLogsCmd): while it leads, nothing
// archives, so lines kept for an archive would only cost memory; the next
// leader with an archive turns it back on with its first mark.

// MaxUnarchivedLogLines bounds the lines a job keeps while it waits for
// the archive: ten times the window, a few hundred KB per job at most.
const MaxUnarchivedLogLines = 10 * MaxJobLogLines

// LogsArchivedCmd says how many lines of each job's log the archive holds
// (line numbers from 0 of the whole log, so a count). Counts only grow; a
// late or repeated entry changes nothing.
type LogsArchivedCmd struct {
	Lines map[string]int `json:"lines"`
}

func (s jobsApply) logsArchived(_ applyContext, cmd *LogsArchivedCmd) (struct{}, error) {
	s.archivesLogs = true
	for id, n := range cmd.Lines {
		j := s.jobs[id]
		if j == nil || n <= j.LogsArchived {
			continue
		}
		j = s.mutableJob(j)
		j.LogsArchived = n
		s.trimLogs(j)
	}
	return struct{}{}, nil
}

// trimLogs drops the oldest lines the state no longer needs: beyond the
// newest MaxJobLogLines, and, while an archiver runs, only lines the
// archive holds unless the job exceeds MaxUnarchivedLogLines.
func (s *state) trimLogs(j *Job) {
	drop := max(0, len(j.Logs)-MaxJobLogLines)
	if s.archivesLogs {
		drop = min(drop, max(0, j.LogsArchived-j.LogsDropped))
		drop = max(drop, len(j.Logs)-MaxUnarchivedLogLines)
	}
	if drop <= 0 {
		return
	}
	j.Logs = j.Logs[drop:]
	j.LogsDropped += drop
}

// MarkLogsArchived tells the replicas that the archive holds the first
// lines[id] lines of each job's log, so they may let them go. The first
// call, even with nothing to mark, turns on keeping lines for the archive;
// after that an empty call writes nothing, so an idle cluster stays idle.
func (s JobQueue) MarkLogsArchived(ctx context.Context, lines map[string]int) error {
	var on bool
	s.fsm.read(func(st *state) { on = st.archivesLogs })
	if on && len(lines) == 0 {
		return nil
	}
	_, err := apply[struct{}](ctx, s.Store, cmdLogsArchived, LogsArchivedCmd{Lines: lines})
	return err
}

// UnmarkedLogs returns the finished jobs at or below the Raft index upTo
// that keep more than MaxJobLogLines lines because no mark reached them
// (the archiver that wrote them lost leadership before it could mark),
// with their line counts. A new archiver marks them once per term.
func (s JobQueue) UnmarkedLogs(upTo uint64) map[string]int {
	out := map[string]int{}
	s.fsm.read(func(st *state) {
		st.finished.Ascend(func(j *Job) bool {
			if j.FinishedIndex > upTo {
				return false
			}
			if n := j.LogsDropped + len(j.Logs); len(j.Logs) > MaxJobLogLines && j.LogsArchived < n {
				out[j.ID] = n
			}
			return true
		})
	})
	return out
}

// StopKeepingLogsCmd says no archiver runs: jobs go back to keeping the
// newest MaxJobLogLines lines, and the lines kept beyond that for the
// archive are dropped. It carries nothing; a repeated entry is a no-op.
type StopKeepingLogsCmd struct{}

func (s jobsApply) stopKeepingLogs(_ applyContext, _ *StopKeepingLogsCmd) (struct{}, error) {
	if !s.archivesLogs {
		return struct{}{}, nil
	}
	s.archivesLogs = false
	// Once, when the archive goes away: only jobs over the window change.
	var over []*Job
	for _, j := range s.jobs {
		if len(j.Logs) > MaxJobLogLines {
			over = append(over, j)
		}
	}
	for _, j := range over { // mutableJob may replace map entries: not while ranging
		s.trimLogs(s.mutableJob(j))
	}
	return struct{}{}, nil
}

// stopKeepingLogs is the duty of a leader without an archive: it turns
// off keeping lines for one that an earlier leader (or a mark that
// arrived late) turned on. Cheap when off: one read.
func (s JobQueue) stopKeepingLogs(ctx context.Context) {
	var on bool
	s.fsm.read(func(st *state) { on = st.archivesLogs })
	if !on {
		return
	}
	if _, err := apply[struct{}](ctx, s.Store, cmdStopKeepingLogs, StopKeepingLogsCmd{}); err != nil {
		s.log.Warn("stop keeping log lines for an archive this leader does not have", "err", err)
		return
	}
	s.log.Info("no archive configured on this leader: jobs keep only their newest log lines again", "lines", MaxJobLogLines)
}
