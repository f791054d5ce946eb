package consensus

import (
	"encoding/json"
	"maps"
	"slices"
)

// A robot's log lines reach the job with its heartbeats, completions and
// hand-backs. A heartbeat whose entry commits while its robot does not
// learn the outcome (a leader change, the robot's heartbeat timeout) has
// its lines put back and sent again; so that they are recorded once, the
// robot numbers the lines of each lease from 0 (Progress.LogsEnd) and
// the lease remembers how far the job holds them (Lease.LogsEnd).

// record stores a run's checkpoint, newest log lines and node status.
// j is leased to the reporting robot (eachLeased).
func (s queueApply) record(j *Job, checkpoint json.RawMessage, logs []LogLine, logsEnd int, status map[string]string) {
	if len(status) > 0 {
		s.recordStatus(j, status)
	}
	if checkpoint != nil {
		j.Checkpoint = checkpoint
	}
	logs = unrecordedLines(j.Lease, logs, logsEnd)
	if len(logs) > 0 {
		j.Logs = append(slices.Clip(j.Logs), logs...)
		s.trimLogs(j)
	}
}

// recordStatus merges a report's node status into the job's, and notes
// it for observers. The entry's map is the command's, so the state and
// the observers hold a copy; neither changes a status map once it is
// set (a job's is replaced whole), so a job that had none takes the copy
// the observers see instead of a second one: the first and often only
// status of a job comes with its completion, on every node.
func (s queueApply) recordStatus(j *Job, status map[string]string) {
	own := maps.Clone(status)
	s.noteProgress(j, own)
	if len(j.NodeStatus) == 0 {
		j.NodeStatus = own
		return
	}
	merged := maps.Clone(j.NodeStatus)
	maps.Copy(merged, own)
	j.NodeStatus = merged
}

// unrecordedLines returns the lines of a report numbered end (see
// Progress.LogsEnd) that the lease's robot has not had recorded yet, and
// moves the lease's count past them. Lines before the count came in an
// entry whose outcome the robot did not learn: it put them back and sent
// them again. A report that skips numbers (its earlier lines went
// through a node that predates the field) is recorded whole.
func unrecordedLines(lease *Lease, logs []LogLine, end int) []LogLine {
	first := end - len(logs)
	if len(logs) == 0 || end <= 0 || first < 0 || lease == nil {
		return logs // unnumbered: recorded whole, as before the field
	}
	skip := min(max(lease.LogsEnd-first, 0), len(logs))
	lease.LogsEnd = max(lease.LogsEnd, end)
	return logs[skip:]
}

// checkLogsEnd refuses a report whose numbering cannot hold its lines,
// before it reaches Raft (the FSM would record them whole).
func checkLogsEnd[T any](items []T, ref func(T) (job string, lines, end int)) error {
	for _, it := range items {
		job, lines, end := ref(it)
		if end != 0 && end < lines {
			return errorf(CodeInvalid, "job %s: logs_end %d is less than the report's %d log lines", job, end, lines)
		}
	}
	return nil
}

func progressLogs(p Progress) (string, int, int)     { return p.JobID, len(p.Logs), p.LogsEnd }
func completionLogs(c Completion) (string, int, int) { return c.JobID, len(c.Logs), c.LogsEnd }
