package executor

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a workflow. NodeID is empty for problems
// of the workflow as a whole.
type Problem struct {
	NodeID  string `json:"node_id,omitempty"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.NodeID == "" {
		return fmt.Sprintf("workflow: %s: %s", p.Field, p.Message)
	}
	return fmt.Sprintf("node %s: %s: %s", p.NodeID, p.Field, p.Message)
}

// ValidationError lists every problem found in a workflow.
type ValidationError struct {
	Problems []Problem
}

// Error returns one line per problem.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks a workflow against the node type registry and the graph
// rules: known types, required and well-typed config fields, expressions
// that compile, connections between existing nodes on existing ports,
// exactly one start node, every node reachable from it, and no cycle except
// through a loop's body port. It returns nil or a *ValidationError.
func Validate(w *Workflow) error {
	_, problems := buildPlan(w, uncached{}, 0)
	problems = append(problems, secretProblems(w)...)
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// checkGraph adds the problems of the connection graph: unreachable nodes,
// cycles outside loop bodies and loops without a body.
func (p *plan) checkGraph() []Problem {
	var problems []Problem
	if p.start < 0 {
		return nil
	}
	reached := make([]bool, len(p.nodes))
	queue := make([]int, 1, len(p.nodes))
	queue[0] = p.start
	reached[p.start] = true
	for len(queue) > 0 {
		n := &p.nodes[queue[0]]
		queue = queue[1:]
		for _, e := range n.edges {
			if !reached[e.to] {
				reached[e.to] = true
				queue = append(queue, e.to)
			}
		}
		if n.onError >= 0 && !reached[n.onError] {
			reached[n.onError] = true
			queue = append(queue, n.onError)
		}
	}
	for i, n := range p.nodes {
		if !reached[i] {
			problems = append(problems, Problem{NodeID: n.id, Field: "connections", Message: "unreachable from the start node"})
		}
		if n.kind.loop && n.target("body") < 0 {
			problems = append(problems, Problem{NodeID: n.id, Field: "connections", Message: "loop has no body: connect its body port"})
		}
	}
	return append(problems, p.findCycles()...)
}

// findCycles reports connections that close a cycle, ignoring loop body
// connections: a body may lead back to its loop node, nothing else may. The
// depth-first search keeps an explicit stack, so a workflow of many
// thousands of nodes cannot overflow anything.
func (p *plan) findCycles() []Problem {
	const (
		unvisited = iota
		active
		finished
	)
	state := make([]uint8, len(p.nodes))
	// frame is a node on the search path and how many of its successors
	// the search has followed.
	type frame struct{ node, next int }
	var problems []Problem
	var stack []frame
	for root := range p.nodes {
		if state[root] != unvisited {
			continue
		}
		stack = append(stack[:0], frame{node: root})
		state[root] = active
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			succ, ok := p.successor(top.node, top.next)
			if !ok {
				state[top.node] = finished
				stack = stack[:len(stack)-1]
				continue
			}
			top.next++
			switch state[succ] {
			case active:
				problems = append(problems, Problem{
					NodeID:  p.nodes[top.node].id,
					Field:   "connections",
					Message: fmt.Sprintf("connection to %q closes a cycle that is not a loop body (repeat work with for_each or while)", p.nodes[succ].id),
				})
			case unvisited:
				state[succ] = active
				stack = append(stack, frame{node: succ})
			}
		}
	}
	return problems
}

// successor returns the i-th node that node i leads to, skipping loop body
// connections; ok is false past the last.
func (p *plan) successor(node, i int) (int, bool) {
	n := &p.nodes[node]
	for _, e := range n.edges {
		if n.kind.loop && e.port == "body" {
			continue
		}
		if i == 0 {
			return e.to, true
		}
		i--
	}
	if n.onError >= 0 && i == 0 {
		return n.onError, true
	}
	return 0, false
}
