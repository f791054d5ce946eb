package executor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

func subworkflowKinds() []*nodeKind {
	return []*nodeKind{{
		NodeType: NodeType{
			Name:     "subworkflow",
			Category: "control",
			Description: "Runs another workflow, given by path or inline, with its own variables: its defaults, then params, plus job_id, attempt and robot_id. " +
				"Browser sessions are shared with it. A subworkflow runs as one step: a resumed run repeats it from its start.",
			Fields: []Field{
				{Name: "path", Type: TypeString, Description: "workflow file; relative paths are resolved against the engine's base directory"},
				{Name: "workflow", Type: TypeWorkflow, Description: "the workflow itself, inline (its templates are its own, not expanded by the caller)"},
				{Name: "params", Type: TypeMap, Description: "variables passed to the subworkflow"},
				{Name: "output_var", Type: TypeVariable, Description: "variable that receives the subworkflow's final variables"},
			},
			Ports:     []string{""},
			ErrorPort: true,
		},
		effects: true,
		exec:    execSubworkflow,
		check: func(n *Node) []Problem {
			_, hasPath := n.Config["path"]
			_, hasInline := n.Config["workflow"]
			if hasPath == hasInline {
				return []Problem{{NodeID: n.ID, Field: "path", Message: "set exactly one of path and workflow"}}
			}
			return nil
		},
	}}
}

// errStopped marks a subworkflow that a BeforeNode hook stopped, so that
// the caller stops too instead of treating it as a node failure.
var errStopped = errors.New("stopped")

func execSubworkflow(ctx context.Context, c call) (string, error) {
	if len(c.r.stack) >= c.r.engine.maxDepth {
		return "", fmt.Errorf("subworkflows nest deeper than %d calls", c.r.engine.maxDepth)
	}
	child, err := c.subworkflowPlan()
	if err != nil {
		return "", err
	}
	params, err := c.object("params")
	if err != nil {
		return "", err
	}
	vars := initialVars(child.vars, params)
	for _, k := range jobVariables {
		if v, ok := c.r.vars[k]; ok {
			if _, set := vars[k]; !set {
				vars[k] = v
			}
		}
	}
	// The child's variables have their own names: hide the parent's
	// secret values by value before the child can let them out.
	c.r.shared.redact.keep(c.r.vars)
	opts := &RunOptions{OnEvent: c.r.opts.OnEvent, BeforeNode: c.r.opts.BeforeNode}
	sub := newRun(c.r.engine, child, opts, c.r.shared)
	sub.vars = vars
	sub.eval.vars = vars
	sub.stack = append(slices.Clip(c.r.stack), Frame{Workflow: c.r.plan.name, NodeID: c.n.id})
	sub.prefix = c.r.prefix + c.n.id + "/"

	out := sub.exec(ctx, child.start)
	switch {
	case out.err == nil:
		return "", c.setOutput(sub.vars)
	case out.cancelled && ctx.Err() == nil:
		return "", fmt.Errorf("subworkflow %s: %w: %w", child.name, errStopped, out.err)
	default:
		return "", &kindError{kind: failureKind(out.err), err: fmt.Errorf("subworkflow %s: %w", child.name, out.err)}
	}
}

// subworkflowPlan returns the plan of the node's inline workflow, or loads
// and plans the file its path names, once per run.
func (c call) subworkflowPlan() (*plan, error) {
	if c.n.inline != nil {
		return c.n.inline, nil
	}
	path, err := c.requiredStr("path")
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(path) && c.r.engine.baseDir != "" {
		path = filepath.Join(c.r.engine.baseDir, path)
	}
	if p, ok := c.r.shared.subworkflows[path]; ok {
		return p, nil
	}
	data, err := c.readSubworkflow(path)
	if err != nil {
		return nil, err
	}
	w, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, problems := buildPlan(w, c.r.engine.programs, 0)
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: invalid workflow: %w", path, &ValidationError{Problems: problems})
	}
	if c.r.shared.subworkflows == nil {
		c.r.shared.subworkflows = make(map[string]*plan)
	}
	c.r.shared.subworkflows[path] = p
	return p, nil
}

// readSubworkflow reads a subworkflow file, through the file root when
// the robot has one.
func (c call) readSubworkflow(path string) ([]byte, error) {
	if c.r.engine.root == "" {
		return os.ReadFile(path)
	}
	f, err := c.openFile("path", path, os.O_RDONLY, 0, false)
	if err != nil {
		return nil, err
	}
	return readCapped(f, path, MaxFileReadBytes)
}
