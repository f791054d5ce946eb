package executor

import (
	"maps"
	"time"
)

// Checkpoint is a run's position after a node: enough to resume the run
// without re-running the nodes it covers. It is plain data that survives a
// JSON round trip, so it can be replicated and resumed on another robot.
type Checkpoint struct {
	// Next is the id of the node to run next; empty when the run has
	// finished.
	Next string `json:"next,omitempty"`
	// Completed lists the nodes that have completed at least once, in the
	// order they first completed.
	Completed []string `json:"completed"`
	// Loops are the active loops, outermost first.
	Loops []LoopPosition `json:"loops,omitempty"`
	// Variables are the run's variables after the node.
	Variables map[string]any `json:"variables"`
	// Steps counts node executions so far, loop iterations included.
	Steps int64 `json:"steps"`
}

// LoopPosition is an active for_each or while loop.
type LoopPosition struct {
	Node string `json:"node"`
	// Index is the 0-based iteration in progress.
	Index int `json:"index"`
	// Items are a for_each loop's items, evaluated when the loop began.
	Items []any `json:"items,omitempty"`
}

// checkpointer decides when a checkpoint is due.
type checkpointer struct {
	enabled  bool
	every    int
	interval time.Duration
	last     time.Time
	pending  int // completed nodes since the last checkpoint
}

func newCheckpointer(opts *RunOptions) checkpointer {
	c := checkpointer{
		enabled:  opts.OnCheckpoint != nil,
		every:    opts.CheckpointEvery,
		interval: opts.CheckpointInterval,
	}
	if c.interval > 0 {
		c.last = time.Now()
	}
	return c
}

// after counts a completed node and emits a checkpoint when one is due.
func (c *checkpointer) after(r *run, n *planNode, next int) {
	c.pending++
	if !c.enabled {
		return
	}
	due := n.kind.effects ||
		c.every <= 0 && c.interval <= 0 ||
		c.every > 0 && c.pending >= c.every
	if !due && c.interval > 0 {
		due = time.Since(c.last) >= c.interval
	}
	if !due {
		return
	}
	r.opts.OnCheckpoint(r.shared.redact.checkpoint(r.snapshot(next), r.vars))
	c.pending = 0
	if c.interval > 0 {
		c.last = time.Now()
	}
}

// snapshot captures the run's position cheaply: the completed list is
// shared (it is append-only and clipped here), loop items are shared (never
// modified), and only the top-level variable map is copied, because the
// engine replaces variable values but never changes them in place.
func (r *run) snapshot(next int) Checkpoint {
	cp := Checkpoint{
		Completed: r.completed[:len(r.completed):len(r.completed)],
		Variables: maps.Clone(r.vars),
		Steps:     r.steps,
	}
	if cp.Completed == nil {
		cp.Completed = []string{}
	}
	if cp.Variables == nil {
		cp.Variables = map[string]any{}
	}
	if next >= 0 {
		cp.Next = r.plan.nodes[next].id
	}
	if len(r.loops) > 0 {
		cp.Loops = make([]LoopPosition, len(r.loops))
		for i, f := range r.loops {
			cp.Loops[i] = LoopPosition{Node: r.plan.nodes[f.node].id, Index: f.index, Items: f.items}
		}
	}
	return cp
}
