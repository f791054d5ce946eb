package robot

import (
	"context"
	"encoding/json"
	"slices"
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
	// sending is what the heartbeat in flight carries (inFlight): its
	// lines, which end at logsFrom when no line was logged since, and its
	// node states. The run's last report sends them again, so a heartbeat
	// that fails after the run ended does not lose them (the cluster
	// records resent lines once).
	sending    runReport
	inFlight   bool
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
// Called with ru.mu held.
func (ru *run) takeReport() runReport {
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
// completion or hand-back: it carries the lines and node states of a
// heartbeat still in flight too, the lines under their numbers, as that
// heartbeat may yet fail with no later report to carry them. It holds
// ru.mu throughout, so that a heartbeat failing meanwhile cannot put its
// lines back behind it.
func (ru *run) takeFinalReport() runReport {
	ru.mu.Lock()
	defer ru.mu.Unlock()
	rep := ru.takeReport()
	if !ru.inFlight {
		return rep
	}
	sent := ru.sending
	ru.sending, ru.inFlight = runReport{}, false
	if len(sent.logs) > 0 {
		rep.logs = slices.Concat(sent.logs, rep.logs)
		rep.logsEnd = ru.logsFrom
	}
	rep.status = addOlder(rep.status, sent.status)
	return rep
}

// addOlder adds to status the node states of older that status has no
// newer state for, and returns it (made when status is nil).
func addOlder(status, older map[string]string) map[string]string {
	for node, state := range older {
		if _, newer := status[node]; !newer {
			if status == nil {
				status = map[string]string{}
			}
			status[node] = state
		}
	}
	return status
}

// takeProgress takes what the next heartbeat carries; giveBack returns
// it when the heartbeat did not get through, so nothing is lost, and
// delivered forgets it when it did. What it takes is noted as in flight
// under the same lock, so that the run's last report, taken at any
// moment, finds it either there or still to take.
func (ru *run) takeProgress() (consensus.Progress, *executor.Checkpoint) {
	ru.mu.Lock()
	rep := ru.takeReport()
	ru.sending, ru.inFlight = rep, true
	p := consensus.Progress{JobID: ru.job.ID, Token: ru.job.Lease.Token, Logs: rep.logs, LogsEnd: rep.logsEnd, NodeStatus: rep.status}
	cp := ru.checkpoint
	if cp != nil {
		p.Checkpoint, _ = json.Marshal(cp)
		ru.checkpoint = nil
	}
	ru.mu.Unlock()
	if ru.debug != nil {
		p.Debug = ru.debug.take()
	}
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

// delivered forgets what a heartbeat the cluster answered carried.
func (ru *run) delivered() {
	ru.mu.Lock()
	ru.sending, ru.inFlight = runReport{}, false
	ru.mu.Unlock()
}

func (ru *run) giveBack(p consensus.Progress, cp *executor.Checkpoint) {
	if p.Debug != nil {
		ru.debug.giveBack(p.Debug)
	}
	ru.mu.Lock()
	defer ru.mu.Unlock()
	if ru.checkpoint == nil {
		ru.checkpoint = cp
	}
	if !ru.inFlight {
		return // the run's last report took its lines and node states
	}
	ru.sending, ru.inFlight = runReport{}, false
	ru.putBackLogs(p)
	ru.status = addOlder(ru.status, p.NodeStatus)
}

// putBackLogs returns the lines of a report that did not get through
// ahead of those logged since, with their numbers: the next report sends
// them again under the same numbers, and the cluster records those it
// already has once. Called with ru.mu held, for the heartbeat in flight.
func (ru *run) putBackLogs(p consensus.Progress) {
	if len(p.Logs) == 0 || p.LogsEnd != ru.logsFrom {
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
