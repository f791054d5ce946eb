package executor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"time"
)

// run is the state of one workflow execution. A run is driven by a single
// goroutine, so nothing in it is locked.
type run struct {
	engine *Engine
	plan   *plan
	opts   *RunOptions
	shared *resources

	vars map[string]any
	eval evaluator
	// varSizes and varTotal measure the variables the run set, against
	// MaxVariableBytes and MaxVariablesBytes.
	varSizes map[string]int64
	varTotal int64
	loops    []loopFrame

	completed []string // distinct completed node ids, append-only
	done      []bool   // per node: completed at least once
	steps     int64

	ended       *ending
	checkpoints checkpointer

	stack  []Frame // the subworkflow calls this run is nested in
	prefix string  // prefix of node ids in events: the calls' node ids
}

// loopFrame is an active for_each or while loop. index is the 0-based
// iteration in progress.
type loopFrame struct {
	node  int
	index int
	items []any // for_each only; never modified
}

// ending records an end or fail node.
type ending struct {
	failed  bool
	kind    string
	message string
}

// outcome is how exec stopped. next is the node to resume at, or -1.
type outcome struct {
	err       error
	node      string
	next      int
	cancelled bool
}

func newRun(e *Engine, p *plan, opts *RunOptions, shared *resources) *run {
	return &run{
		engine: e,
		plan:   p,
		opts:   opts,
		shared: shared,
		done:   make([]bool, len(p.nodes)),
		eval:   evaluator{limits: e.exprs, secrets: shared.secrets},
	}
}

// limited returns the outcome of a run stopped by one of its limits: the
// run's context ended because of limits.timeout, or the run used up
// limits.max_steps. ok is false when no limit was hit.
func (r *run) limited(ctx context.Context, n *planNode, cur int) (outcome, bool) {
	if ctx.Err() != nil {
		if cause := context.Cause(ctx); errors.Is(cause, ErrLimit) {
			return outcome{err: fmt.Errorf("node %s: %w", n.id, cause), node: n.id, next: cur}, true
		}
	}
	if max := r.shared.maxSteps; max > 0 && r.shared.steps >= max {
		err := limitError("limits.max_steps", "the run executed %d nodes", max)
		return outcome{err: fmt.Errorf("before node %s: %w", n.id, err), node: n.id, next: cur}, true
	}
	return outcome{}, false
}

// exec runs nodes from cur until the workflow ends, fails or is cancelled.
func (r *run) exec(ctx context.Context, cur int) outcome {
	ctx = context.WithValue(ctx, callStackKey{}, r.stack)
	if r.shared.ctx == nil {
		// Browser sessions outlive single nodes, so they hang off the
		// top-level run's context rather than a node's.
		r.shared.ctx = ctx
	}
	for cur >= 0 {
		n := &r.plan.nodes[cur]
		if out, hit := r.limited(ctx, n, cur); hit {
			return out
		}
		if err := ctx.Err(); err != nil {
			return outcome{err: fmt.Errorf("cancelled before node %s: %w", n.id, context.Cause(ctx)), next: cur, cancelled: true}
		}
		if r.opts.BeforeNode != nil {
			if err := r.opts.BeforeNode(ctx, r.prefix+n.id, r.shared.redact.debugVars(r.vars)); err != nil {
				return outcome{
					err:       fmt.Errorf("stopped before node %s: %w", n.id, err),
					node:      n.id,
					next:      cur,
					cancelled: errors.Is(err, context.Canceled),
				}
			}
		}
		port, err := r.runNode(ctx, n)
		next := -1
		if out, hit := r.limited(ctx, n, cur); hit && err != nil {
			return out
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return outcome{err: fmt.Errorf("node %s: cancelled: %w", n.id, context.Cause(ctx)), next: cur, cancelled: true}
		case errors.Is(err, errStopped):
			return outcome{err: fmt.Errorf("node %s: %w", n.id, err), node: n.id, next: cur, cancelled: errors.Is(err, context.Canceled)}
		case err != nil && (n.onError < 0 || failureKind(err) == FailureBusiness):
			return outcome{err: fmt.Errorf("node %s: %w", n.id, err), node: n.id, next: cur}
		case err != nil:
			r.vars["error"] = err.Error()
			r.vars["error_node"] = r.prefix + n.id
			next = n.onError
		case r.ended != nil && r.ended.failed:
			// The end node is not marked completed, so resuming the
			// checkpoint reaches the same verdict.
			msg := r.ended.message
			if msg == "" {
				msg = "workflow ended with status failed"
			}
			return outcome{err: &kindError{kind: r.ended.kind, err: fmt.Errorf("node %s: %s", n.id, msg)}, node: n.id, next: cur}
		case r.ended != nil:
		default:
			next = r.follow(n, port)
		}
		r.complete(cur)
		cur = next
		r.checkpoints.after(r, n, cur)
	}
	return outcome{next: -1}
}

// follow returns the node after n leaves by port. A path that ends inside a
// loop body returns to the innermost loop.
func (r *run) follow(n *planNode, port string) int {
	if t := n.target(port); t >= 0 {
		return t
	}
	if len(r.loops) > 0 {
		return r.loops[len(r.loops)-1].node
	}
	return -1
}

func (r *run) complete(i int) {
	if !r.done[i] {
		r.done[i] = true
		r.completed = append(r.completed, r.plan.nodes[i].id)
	}
	r.steps++
	r.shared.steps++
}

// runNode runs a node with its retry policy and reports progress events.
func (r *run) runNode(ctx context.Context, n *planNode) (string, error) {
	for attempt := 1; ; attempt++ {
		var began time.Time
		if r.opts.OnEvent != nil {
			began = time.Now()
			r.emit(Event{Time: began, Kind: EventNodeStarted, NodeID: n.id, NodeType: n.kind.Name, Attempt: attempt})
		}
		port, err := r.attempt(ctx, n)
		if err == nil {
			if r.opts.OnEvent != nil {
				now := time.Now()
				r.emit(Event{Time: now, Kind: EventNodeFinished, NodeID: n.id, NodeType: n.kind.Name, Attempt: attempt, Duration: now.Sub(began)})
			}
			return port, nil
		}
		final := ctx.Err() != nil || attempt > n.retry.max ||
			failureKind(err) == FailureBusiness || errors.Is(err, errStopped)
		if r.opts.OnEvent != nil {
			now := time.Now()
			ev := Event{Time: now, Kind: EventNodeFailed, NodeID: n.id, NodeType: n.kind.Name, Attempt: attempt, Duration: now.Sub(began), Error: err.Error()}
			if !final {
				ev.Kind, ev.Duration = EventNodeRetrying, n.retry.wait(attempt)
			}
			r.emit(ev)
		}
		if final {
			return "", err
		}
		wait := n.retry.wait(attempt)
		r.engine.logger.Debug("node failed, retrying", "workflow", r.plan.name, "node", r.prefix+n.id, "attempt", attempt, "wait", wait, "error", redactText(err.Error(), r.shared.redact.values(r.vars)))
		if err := sleep(ctx, wait); err != nil {
			return "", err
		}
	}
}

// attempt runs a node once under its timeout. A panicking node fails
// instead of taking the robot down with it.
func (r *run) attempt(ctx context.Context, n *planNode) (port string, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.engine.logger.Error("node panicked", "node", r.prefix+n.id, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("internal error in %s node: %v", n.kind.Name, p)
		}
	}()
	// Nodes of subworkflows loaded from files were not in the plan the
	// run was checked against.
	if err := r.engine.policy.permits(n.kind.Name); err != nil {
		return "", err
	}
	if n.timeout <= 0 {
		r.eval.ctx = ctx
		return n.kind.exec(ctx, call{r: r, n: n})
	}
	tctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	r.eval.ctx = tctx
	port, err = n.kind.exec(tctx, call{r: r, n: n})
	if err != nil && ctx.Err() == nil && tctx.Err() != nil {
		err = fmt.Errorf("timed out after %s: %w", n.timeout, err)
	}
	return port, err
}

func (r *run) emit(ev Event) {
	if r.opts.OnEvent == nil {
		return
	}
	if r.prefix != "" {
		ev.NodeID = r.prefix + ev.NodeID
	}
	ev = r.shared.redact.event(ev, r.vars)
	ev.Message, ev.Error = clip(ev.Message, maxMessageBytes), clip(ev.Error, maxMessageBytes)
	r.opts.OnEvent(ev)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// kindError carries a failure kind through error chains, so that a business
// failure deep in a subworkflow is still a business failure at the top.
type kindError struct {
	kind string
	err  error
}

func (e *kindError) Error() string { return e.err.Error() }
func (e *kindError) Unwrap() error { return e.err }

func failureKind(err error) string {
	var k *kindError
	if errors.As(err, &k) {
		return k.kind
	}
	return FailureApplication
}

// Frame is one subworkflow call: the workflow that made it and the calling
// node.
type Frame struct {
	Workflow string `json:"workflow"`
	NodeID   string `json:"node_id"`
}

type callStackKey struct{}

// CallStack returns the subworkflow calls that the node being run is nested
// in, outermost first; it is empty for nodes of the top-level workflow. Use
// it in a BeforeNode hook.
func CallStack(ctx context.Context) []Frame {
	frames, _ := ctx.Value(callStackKey{}).([]Frame)
	return frames
}

// restore positions a run at a checkpoint and returns the node to run next.
func (r *run) restore(cp *Checkpoint) (int, error) {
	byID := r.plan.byID
	next := -1
	if cp.Next != "" {
		i, ok := byID[cp.Next]
		if !ok {
			return 0, fmt.Errorf("resume: checkpoint's next node %q is not in the workflow", cp.Next)
		}
		next = i
	}
	for _, lp := range cp.Loops {
		i, ok := byID[lp.Node]
		if !ok || !r.plan.nodes[i].kind.loop {
			return 0, fmt.Errorf("resume: checkpoint's loop node %q is not a loop of the workflow", lp.Node)
		}
		r.loops = append(r.loops, loopFrame{node: i, index: lp.Index, items: lp.Items})
	}
	for _, id := range cp.Completed {
		i, ok := byID[id]
		if !ok {
			return 0, fmt.Errorf("resume: checkpoint's completed node %q is not in the workflow", id)
		}
		if !r.done[i] {
			r.done[i] = true
			r.completed = append(r.completed, id)
		}
	}
	r.steps = cp.Steps
	r.vars = make(map[string]any, len(cp.Variables)+len(r.opts.Vars))
	for k, v := range r.opts.Vars {
		r.vars[k] = v
	}
	maps.Copy(r.vars, cp.Variables)
	for _, k := range jobVariables {
		if v, ok := r.opts.Vars[k]; ok {
			r.vars[k] = v
		}
	}
	normalizeVars(r.vars)
	r.eval.vars = r.vars
	return next, nil
}
