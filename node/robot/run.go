package robot

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// run is one job executing on this robot.
type run struct {
	job    consensus.Job
	cancel context.CancelFunc
	nudge  chan<- struct{}
	fence  *leaseFence
	debug  *debugSession // nil unless the job is a debug session

	mu         sync.Mutex
	checkpoint *executor.Checkpoint // latest, not yet reported
	logs       []consensus.LogLine
	// logsFrom is the number of logs[0] among the lines this run logged
	// under its lease, from 0: a report says where its lines end
	// (consensus.Progress.LogsEnd), so that lines sent again after a
	// report whose outcome was lost are recorded once.
	logsFrom int
	// sending are the lines the heartbeat in flight carries, which end at
	// logsFrom when no line was logged since: the run's last report sends
	// them again, so a heartbeat that fails after the run ended does not
	// lose them (the cluster records resent lines once).
	sending    []consensus.LogLine
	status     map[string]string
	stopReason string
}

func (ru *run) setCheckpoint(cp executor.Checkpoint) {
	ru.mu.Lock()
	ru.checkpoint = &cp
	ru.mu.Unlock()
	if cp.Next == "" {
		return // the run's last checkpoint goes out with its completion
	}
	select {
	case ru.nudge <- struct{}{}:
	default:
	}
}

func (ru *run) onEvent(ev executor.Event) {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	switch ev.Kind {
	case executor.EventLog:
		ru.logs = append(ru.logs, consensus.LogLine{Time: ev.Time, Level: ev.Level.String(), NodeID: ev.NodeID, Message: ev.Message})
	case executor.EventNodeStarted:
		ru.status[ev.NodeID] = "running"
	case executor.EventNodeFinished:
		ru.status[ev.NodeID] = "succeeded"
	case executor.EventNodeFailed:
		ru.status[ev.NodeID] = "failed"
		ru.logs = append(ru.logs, consensus.LogLine{Time: ev.Time, Level: "ERROR", NodeID: ev.NodeID, Message: ev.Error})
	case executor.EventNodeRetrying:
		ru.status[ev.NodeID] = "retrying"
	}
}

// runReport is what happened in a run since its last report.
type runReport struct {
	logs []consensus.LogLine
	// logsEnd numbers logs (consensus.Progress.LogsEnd); 0 without lines.
	logsEnd int
	status  map[string]string
}

// takeReport returns what happened since the last report and forgets it.
func (ru *run) takeReport() runReport {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	rep := runReport{logs: ru.logs, status: ru.status}
	if len(rep.logs) > 0 {
		ru.logsFrom += len(rep.logs)
		rep.logsEnd = ru.logsFrom
	}
	ru.logs, ru.status = nil, map[string]string{}
	if len(rep.status) == 0 {
		rep.status = nil
	}
	return rep
}

// takeFinalReport is takeReport for the run's last report, its
// completion or hand-back: it carries the lines of a heartbeat still in
// flight too, under their numbers, as that heartbeat may yet fail with
// no later report to carry them.
func (ru *run) takeFinalReport() runReport {
	rep := ru.takeReport()
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if len(ru.sending) > 0 {
		rep.logs = append(ru.sending, rep.logs...)
		rep.logsEnd = ru.logsFrom
		ru.sending = nil
	}
	return rep
}

// takeProgress takes what the next heartbeat carries; giveBack returns
// it when the heartbeat did not get through, so nothing is lost, and
// delivered forgets it when it did.
func (ru *run) takeProgress() (consensus.Progress, *executor.Checkpoint) {
	rep := ru.takeReport()
	p := consensus.Progress{JobID: ru.job.ID, Token: ru.job.Lease.Token, Logs: rep.logs, LogsEnd: rep.logsEnd, NodeStatus: rep.status}
	if ru.debug != nil {
		p.Debug = ru.debug.take()
	}
	ru.mu.Lock()
	ru.sending = rep.logs
	cp := ru.checkpoint
	if cp != nil {
		p.Checkpoint, _ = json.Marshal(cp)
		ru.checkpoint = nil
	}
	ru.mu.Unlock()
	return p, cp
}

// hasNews tells whether the run has something to report early: a
// checkpoint or a debugger stop.
func (ru *run) hasNews() bool {
	if ru.debug != nil && ru.debug.pending() {
		return true
	}
	ru.mu.Lock()
	defer ru.mu.Unlock()
	return ru.checkpoint != nil
}

// delivered forgets the lines of a heartbeat the cluster answered.
func (ru *run) delivered() {
	ru.mu.Lock()
	ru.sending = nil
	ru.mu.Unlock()
}

func (ru *run) giveBack(p consensus.Progress, cp *executor.Checkpoint) {
	if p.Debug != nil {
		ru.debug.giveBack(p.Debug)
	}
	ru.mu.Lock()
	defer ru.mu.Unlock()
	ru.putBackLogs(p)
	for node, state := range p.NodeStatus {
		if _, newer := ru.status[node]; !newer {
			ru.status[node] = state
		}
	}
	if ru.checkpoint == nil {
		ru.checkpoint = cp
	}
}

// putBackLogs returns the lines of a report that did not get through
// ahead of those logged since, with their numbers: the next report sends
// them again under the same numbers, and the cluster records those it
// already has once. When the run's last report has meanwhile taken them
// (takeFinalReport), they went with it and stay out. Called with ru.mu
// held.
func (ru *run) putBackLogs(p consensus.Progress) {
	sent := ru.sending
	ru.sending = nil
	if len(p.Logs) == 0 || len(sent) == 0 || p.LogsEnd != ru.logsFrom {
		return
	}
	ru.logs = append(p.Logs, ru.logs...)
	ru.logsFrom -= len(p.Logs)
}

func (ru *run) stop(reason string) {
	ru.mu.Lock()
	ru.stopReason = reason
	ru.mu.Unlock()
	ru.cancel()
}

func (ru *run) stopped() string {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	return ru.stopReason
}
