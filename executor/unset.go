package executor

import (
	"regexp"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"
)

// UnsetError is an expression that failed on nothing (nil) while it reads
// variables that have no value: in a subworkflow, a loop body or a
// debugger's watch, a variable of the outer run is the usual cause, and
// expr's own message ("interface {} is nil, not string") does not say
// which one it was.
type UnsetError struct {
	Names []string // the variables read that are missing or null, in order
	Err   error
}

// Error is the first line of Err (expr's message; the lines after it draw
// the expression) and which variables are not set.
func (e *UnsetError) Error() string {
	msg, _, _ := strings.Cut(e.Err.Error(), "\n")
	return msg + "; " + e.hint()
}

func (e *UnsetError) Unwrap() error { return e.Err }

func (e *UnsetError) hint() string {
	if len(e.Names) == 1 {
		return e.Names[0] + " is not set"
	}
	return "not set: " + strings.Join(e.Names, ", ")
}

// withUnset wraps err, an error of running p against vars, in an
// UnsetError when it is about nothing and p reads variables vars does not
// give a value.
func withUnset(err error, p *vm.Program, vars map[string]any) error {
	// Only the message's first line says what failed: the lines after it
	// draw the expression, whose names and text ("vanilla", "nil") are
	// not about nothing.
	if msg, _, _ := strings.Cut(err.Error(), "\n"); !aboutNothing.MatchString(msg) {
		return err
	}
	names := unsetNames(p, vars)
	if len(names) == 0 {
		return err
	}
	return &UnsetError{Names: names, Err: err}
}

// aboutNothing matches expr's messages about nil: "is nil, not string",
// "<nil> + int", "cannot fetch field from <nil>".
var aboutNothing = regexp.MustCompile(`\bnil\b`)

// unsetNames lists the variables p reads that are missing from vars or
// null there. Function names, let-bound names and the environment itself
// are not variables of the run, and a variable read only where nothing is
// allowed (missing ?? "d", missing?.field ?? "d") is not what failed.
func unsetNames(p *vm.Program, vars map[string]any) []string {
	var f nameFinder
	root := p.Node()
	ast.Walk(&root, &f)
	var names []string
	for _, id := range f.idents {
		if f.callees[id] || f.guarded[id] || slices.Contains(f.declared, id.Value) || id.Value == "$env" || slices.Contains(names, id.Value) {
			continue
		}
		if v, ok := vars[id.Value]; !ok || v == nil {
			names = append(names, id.Value)
		}
	}
	return names
}

type nameFinder struct {
	idents  []*ast.IdentifierNode
	callees map[*ast.IdentifierNode]bool
	guarded map[*ast.IdentifierNode]bool
	// envReads are the variables read as $env.name (or named like a
	// builtin), by the member node that reads them.
	envReads map[*ast.MemberNode]*ast.IdentifierNode
	declared []string
}

// guard marks the variable that n, the left side of a ??, reads where
// nothing is allowed: n itself (missing ?? "d"), or the start of an
// optional chain (missing?.b.c ?? "d"), which is nothing when it is.
// A bare missing?.b hands its nothing on, so only ?? guards.
func (f *nameFinder) guard(n ast.Node) {
	if c, ok := n.(*ast.ChainNode); ok {
		n = c.Node
	}
	id := f.variable(n)
	for id == nil {
		m, ok := n.(*ast.MemberNode)
		if !ok {
			return
		}
		if id = f.variable(m.Node); id != nil && !m.Optional {
			return // missing.b fails on nothing
		}
		n = m.Node
	}
	if f.guarded == nil {
		f.guarded = map[*ast.IdentifierNode]bool{}
	}
	f.guarded[id] = true
}

// variable returns the variable n reads, if n is a plain variable.
func (f *nameFinder) variable(n ast.Node) *ast.IdentifierNode {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		return n
	case *ast.MemberNode:
		return f.envReads[n]
	}
	return nil
}

func (f *nameFinder) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		f.idents = append(f.idents, n)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			if f.callees == nil {
				f.callees = map[*ast.IdentifierNode]bool{}
			}
			f.callees[id] = true
		}
	case *ast.BinaryNode:
		// Children are visited first: the left side's variables are
		// known. missing ?? nil hands missing's nothing on.
		if _, orNil := n.Right.(*ast.NilNode); n.Operator == "??" && !orNil {
			f.guard(n.Left)
		}
	case *ast.MemberNode:
		// A variable named like a builtin (date, sum) is read as
		// $env["date"] (variablesFirst), as is $env.name written out.
		if env, ok := n.Node.(*ast.IdentifierNode); ok && env.Value == "$env" {
			if name, ok := n.Property.(*ast.StringNode); ok {
				id := &ast.IdentifierNode{Value: name.Value}
				f.idents = append(f.idents, id)
				if f.envReads == nil {
					f.envReads = map[*ast.MemberNode]*ast.IdentifierNode{}
				}
				f.envReads[n] = id
			}
		}
	case *ast.VariableDeclaratorNode:
		f.declared = append(f.declared, n.Name)
	}
}
