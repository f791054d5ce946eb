package robot

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// maxDebugVars bounds the variables a stop reports: they travel in a
// Raft entry.
const maxDebugVars = 256 << 10

// debugSession is the remote debugger of one debug job's run: an
// executor BeforeNode hook that stops before breakpoints and steps, and
// waits for commands that arrive with heartbeat acknowledgements. The
// heartbeats go on while it waits, so the run keeps its lease. A stop
// with no command for the job's pause timeout ends the session: the run
// goes on to the end without stopping again.
type debugSession struct {
	timeout time.Duration
	nudge   chan<- struct{}
	log     *slog.Logger

	mu       sync.Mutex
	breaks   map[string]bool
	applied  uint64 // Seq of the newest command taken
	commands chan consensus.DebugCommand
	report   *consensus.DebugReport // not yet sent
	paused   bool
	stops    uint64 // number of the current or last stop
	detached bool
	// step is set by step (stop at depth ≤ stepDepth) and step_into
	// (stepDepth = -1: stop at the next node at any depth).
	step      bool
	stepDepth int
}

func newDebugSession(o consensus.DebugOptions, nudge chan<- struct{}, log *slog.Logger) *debugSession {
	d := &debugSession{
		timeout: time.Duration(o.PauseTimeout), nudge: nudge, log: log,
		commands: make(chan consensus.DebugCommand, 1),
	}
	if d.timeout <= 0 {
		d.timeout = consensus.DefaultDebugPauseTimeout
	}
	d.setBreaks(o.Breakpoints)
	return d
}

func (d *debugSession) setBreaks(nodes []string) {
	d.breaks = make(map[string]bool, len(nodes))
	for _, n := range nodes {
		d.breaks[n] = true
	}
}

// stopAt tells whether the run stops before nodeID, and why.
func (d *debugSession) stopAt(nodeID string, depth int) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case d.detached:
		return "", false
	case d.breaks[nodeID]:
		return "breakpoint", true
	case d.step && (d.stepDepth < 0 || depth <= d.stepDepth):
		return "step", true
	}
	return "", false
}

// beforeNode stops the run before breakpoints and after steps until a
// command comes, the pause times out or ctx ends.
func (d *debugSession) beforeNode(ctx context.Context, nodeID string, vars map[string]any) error {
	stack := executor.CallStack(ctx)
	reason, stop := d.stopAt(nodeID, len(stack))
	if !stop {
		return nil
	}
	d.mu.Lock()
	d.stops++
	stopNo := d.stops
	d.mu.Unlock()
	d.publish(pausedReport(stopNo, nodeID, reason, vars, stack))
	d.log.Info("debug: paused", "node", nodeID, "reason", reason)
	timer := time.NewTimer(d.timeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		d.mu.Lock()
		d.detached = true
		d.mu.Unlock()
		why := fmt.Sprintf("no debugger command for %s at node %s: the run went on without breakpoints", d.timeout, nodeID)
		d.log.Warn("debug: pause timed out", "node", nodeID, "timeout", d.timeout)
		d.publish(&consensus.DebugReport{Detached: why})
		return nil
	case cmd := <-d.commands:
		d.mu.Lock()
		if cmd.Breakpoints != nil {
			d.setBreaks(cmd.Breakpoints)
		}
		d.step = cmd.Action != consensus.DebugContinue
		d.stepDepth = len(stack)
		if cmd.Action == consensus.DebugStepInto {
			d.stepDepth = -1
		}
		d.mu.Unlock()
		d.log.Info("debug: resumed", "node", nodeID, "action", cmd.Action)
		d.publish(&consensus.DebugReport{})
		return nil
	}
}

func pausedReport(stop uint64, nodeID, reason string, vars map[string]any, stack []executor.Frame) *consensus.DebugReport {
	r := &consensus.DebugReport{Paused: true, Stop: stop, Node: nodeID, Reason: reason, Since: time.Now().UTC()}
	raw, err := json.Marshal(vars)
	switch {
	case err != nil:
		raw, _ = json.Marshal(map[string]string{"_error": "variables cannot be shown: " + err.Error()})
	case len(raw) > maxDebugVars:
		raw, _ = json.Marshal(map[string]string{"_error": fmt.Sprintf("variables take %d bytes, more than the %d a stop reports", len(raw), maxDebugVars)})
	}
	r.Vars = raw
	for _, f := range stack {
		r.Stack = append(r.Stack, consensus.DebugFrame{Workflow: f.Workflow, NodeID: f.NodeID})
	}
	return r
}

// publish queues a report for the next heartbeat and asks for it early.
func (d *debugSession) publish(r *consensus.DebugReport) {
	d.mu.Lock()
	d.report = r
	d.paused = r.Paused
	d.mu.Unlock()
	select {
	case d.nudge <- struct{}{}:
	default:
	}
}

// take returns the report the next heartbeat carries, if any.
func (d *debugSession) take() *consensus.DebugReport {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.report
	d.report = nil
	return r
}

// giveBack requeues a report whose heartbeat failed, unless a newer one
// is waiting.
func (d *debugSession) giveBack(r *consensus.DebugReport) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.report == nil {
		d.report = r
	}
}

func (d *debugSession) pending() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.report != nil
}

// command hands a command from a heartbeat acknowledgement to a paused
// run; each Seq is taken once, and only by the stop it was sent for.
func (d *debugSession) command(cmd consensus.DebugCommand) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cmd.Seq <= d.applied || !d.paused || cmd.Stop != d.stops {
		return
	}
	select {
	case d.commands <- cmd:
		d.applied = cmd.Seq
		d.paused = false
	default:
	}
}
