package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/casare/casare/executor"
)

const debugHelp = `commands:
  step, s            run this node and stop before the next one
  continue, c        run until the next breakpoint
  vars, v            show all variables
  print, p EXPR      evaluate an expression once
  watch, w EXPR      show EXPR at every stop
  break, b NODE      stop before NODE (a subworkflow's nodes as CALL/NODE)
  clear NODE         remove a breakpoint
  stack, bt          show the subworkflow call stack
  quit, q            stop the run
`

// debugger is the interactive debugger of `casare run --debug`. It is an
// executor.RunOptions.BeforeNode hook: the engine calls it before each node
// and it blocks while the user inspects the run.
type debugger struct {
	out      io.Writer
	lines    <-chan string
	done     chan struct{}
	types    map[string]string // top-level node id → type, for display
	breaks   map[string]bool
	watches  []string
	stepping bool
	detached bool // stdin is closed: run on without stopping
}

// newDebugger validates the breakpoints against the workflow and starts
// reading commands from in. Without breakpoints it stops at the first node.
func newDebugger(w *executor.Workflow, in io.Reader, out io.Writer, breaks, watches []string) (*debugger, error) {
	d := &debugger{
		out:     out,
		done:    make(chan struct{}),
		types:   make(map[string]string, len(w.Nodes)),
		breaks:  make(map[string]bool, len(breaks)),
		watches: watches,
	}
	for _, n := range w.Nodes {
		d.types[n.ID] = n.Type
	}
	for _, b := range breaks {
		if err := d.addBreak(b); err != nil {
			return nil, fmt.Errorf("--break %s: %w", b, err)
		}
	}
	for _, expr := range watches {
		if err := executor.CheckExpression(expr); err != nil {
			return nil, fmt.Errorf("--watch %s: %w", expr, err)
		}
	}
	d.stepping = len(breaks) == 0
	d.lines = d.readLines(in)
	fmt.Fprintf(out, "casare debugger: %s; type help for commands\n", d.startMessage())
	return d, nil
}

func (d *debugger) startMessage() string {
	if d.stepping {
		return "stopping before the first node"
	}
	return fmt.Sprintf("running to %d breakpoint(s)", len(d.breaks))
}

// readLines feeds stdin lines to the debugger. The goroutine ends at end of
// input or, once the debugger is closed, after its next line; a read from a
// terminal cannot be interrupted, so that is the earliest it can stop.
func (d *debugger) readLines(in io.Reader) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(in)
		for scanner.Scan() {
			select {
			case lines <- scanner.Text():
			case <-d.done:
				return
			}
		}
	}()
	return lines
}

func (d *debugger) close() { close(d.done) }

func (d *debugger) addBreak(node string) error {
	if _, ok := d.types[node]; !ok && !strings.Contains(node, "/") {
		return fmt.Errorf("no node %q in the workflow", node)
	}
	d.breaks[node] = true
	return nil
}

// beforeNode stops when stepping or at a breakpoint and serves commands
// until one resumes the run.
func (d *debugger) beforeNode(ctx context.Context, nodeID string, vars map[string]any) error {
	if d.detached || !d.stepping && !d.breaks[nodeID] {
		return nil
	}
	reason := "step"
	if d.breaks[nodeID] {
		reason = "breakpoint"
	}
	d.stepping = false
	fmt.Fprintf(d.out, "stopped before %s (%s)\n", d.describe(nodeID), reason)
	for _, expr := range d.watches {
		d.show(expr, vars)
	}
	for {
		fmt.Fprint(d.out, "(casare) ")
		var line string
		select {
		case l, ok := <-d.lines:
			if !ok {
				fmt.Fprintln(d.out, "\nend of input: continuing without the debugger")
				d.detached = true
				return nil
			}
			line = l
		case <-ctx.Done():
			fmt.Fprintln(d.out)
			return context.Cause(ctx)
		}
		command, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
		arg = strings.TrimSpace(arg)
		switch command {
		case "s", "step", "n", "next":
			d.stepping = true
			return nil
		case "c", "continue":
			return nil
		case "q", "quit":
			fmt.Fprintln(d.out, "run stopped")
			return context.Canceled
		case "v", "vars":
			d.printVars(vars)
		case "p", "print":
			d.show(arg, vars)
		case "w", "watch":
			if arg == "" {
				fmt.Fprintln(d.out, "usage: watch EXPR")
				continue
			}
			if err := executor.CheckExpression(arg); err != nil {
				fmt.Fprintln(d.out, err)
				continue
			}
			d.watches = append(d.watches, arg)
			d.show(arg, vars)
		case "b", "break":
			if err := d.addBreak(arg); err != nil {
				fmt.Fprintln(d.out, err)
			}
		case "clear":
			delete(d.breaks, arg)
		case "bt", "stack":
			d.printStack(ctx, nodeID)
		case "", "h", "help":
			fmt.Fprint(d.out, debugHelp)
		default:
			fmt.Fprintf(d.out, "unknown command %q; type help\n", command)
		}
	}
}

func (d *debugger) describe(nodeID string) string {
	if typ, ok := d.types[nodeID]; ok {
		return nodeID + " [" + typ + "]"
	}
	return nodeID
}

func (d *debugger) show(expr string, vars map[string]any) {
	if expr == "" {
		fmt.Fprintln(d.out, "usage: print EXPR")
		return
	}
	v, err := executor.Evaluate(expr, vars)
	if err != nil {
		fmt.Fprintf(d.out, "  %s: error: %v\n", expr, err)
		return
	}
	fmt.Fprintf(d.out, "  %s = %s\n", expr, brief(v, 2000))
}

func (d *debugger) printVars(vars map[string]any) {
	data, err := json.MarshalIndent(vars, "  ", "  ")
	if err != nil {
		fmt.Fprintf(d.out, "  cannot show variables: %v\n", err)
		return
	}
	fmt.Fprintf(d.out, "  %s\n", data)
}

// printStack shows the subworkflow calls, outermost first, and the node
// about to run.
func (d *debugger) printStack(ctx context.Context, nodeID string) {
	frames := executor.CallStack(ctx)
	for i, f := range frames {
		fmt.Fprintf(d.out, "  #%d %s: node %s\n", i, f.Workflow, f.NodeID)
	}
	fmt.Fprintf(d.out, "  #%d next: %s\n", len(frames), nodeID)
}
