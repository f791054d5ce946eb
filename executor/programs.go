package executor

import (
	"maps"
	"slices"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm"
)

// compiler turns expression source into programs and template strings into
// values.
type compiler interface {
	compile(src string) (*vm.Program, error)
	template(s string) (value, error)
}

// defaultCacheSize bounds the caches of an Engine that runs many different
// workflows for a long time.
const defaultCacheSize = 10000

// exprCache compiles each distinct expression and template string once.
// Expressions are compiled without a typed environment, so one program
// serves every run: variables are looked up in the run's map at evaluation
// time, and unknown names evaluate to nil. Compiled values are immutable and
// shared by concurrent runs.
type exprCache struct {
	mu        sync.Mutex
	programs  map[string]*vm.Program
	templates map[string]value
	max       int
}

func newExprCache(max int) *exprCache {
	if max <= 0 {
		max = defaultCacheSize
	}
	return &exprCache{programs: make(map[string]*vm.Program), templates: make(map[string]value), max: max}
}

func (c *exprCache) compile(src string) (*vm.Program, error) {
	c.mu.Lock()
	p, ok := c.programs[src]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := compileExpression(src)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	makeRoom(c.programs, c.max)
	c.programs[src] = p
	return p, nil
}

func (c *exprCache) template(s string) (value, error) {
	c.mu.Lock()
	v, ok := c.templates[s]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compileTemplate(s, c)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	makeRoom(c.templates, c.max)
	c.templates[s] = v
	return v, nil
}

// makeRoom drops an arbitrary entry from a full cache. That keeps the bound
// without the bookkeeping of an LRU; a dropped entry is just compiled again.
func makeRoom[V any](m map[string]V, max int) {
	if len(m) < max {
		return
	}
	for k := range m {
		delete(m, k)
		return
	}
}

// uncached compiles every time; Validate uses it so that validating
// untrusted workflows does not fill a long-lived cache.
type uncached struct{}

func (uncached) compile(src string) (*vm.Program, error) { return compileExpression(src) }

func (u uncached) template(s string) (value, error) { return compileTemplate(s, u) }

// compileExpression compiles src for an environment that is the run's
// variable map. Declaring the environment as a map lets expr read variables
// with a plain map lookup instead of reflection; undefined variables are
// nil. Variables shadow expr's builtins: a workflow with a variable named
// sum or date must read the variable.
//
// The expression is compiled twice: as written, so that mistakes get
// expr's own messages (wrong arguments to a builtin), then with the guard
// (guard.go) that bounds its time and memory, which is the program run.
func compileExpression(src string) (*vm.Program, error) {
	opts := []expr.Option{
		expr.Env(map[string]any{}),
		expr.AllowUndefinedVariables(),
		expr.Patch(variablesFirst{}),
	}
	// secret() is declared for the first compile only, so that expr
	// checks its argument; the guard replaces every call to it.
	check := append(slices.Clip(opts), expr.Function(secretFunc, func(...any) (any, error) { return nil, nil }, secretArgCheck))
	if _, err := expr.Compile(src, check...); err != nil {
		return nil, err
	}
	return expr.Compile(src, append(opts, guardOptions()...)...)
}

// variablesFirst rewrites a bare identifier that names a builtin into a
// lookup in the environment. Calls such as sum(xs) are not identifiers, so
// the builtins stay callable.
type variablesFirst struct{}

func (variablesFirst) Visit(node *ast.Node) {
	id, ok := (*node).(*ast.IdentifierNode)
	if !ok {
		return
	}
	if _, isBuiltin := builtin.Index[id.Value]; !isBuiltin {
		return
	}
	ast.Patch(node, &ast.MemberNode{
		Node:     &ast.IdentifierNode{Value: "$env"},
		Property: &ast.StringNode{Value: id.Value},
	})
}

// CheckExpression reports whether an expression compiles, without
// evaluating it.
func CheckExpression(expression string) error {
	_, err := compileCondition(expression, uncached{})
	return err
}

// Evaluate evaluates one expression against vars. It compiles the
// expression each time, so it suits occasional use such as a debugger's
// watch expressions, not hot paths.
func Evaluate(expression string, vars map[string]any) (any, error) {
	ev, err := compileCondition(expression, uncached{})
	if err != nil {
		return nil, err
	}
	// The evaluation puts its budget into the variables while it runs;
	// the caller's map is not ours to change.
	e := evaluator{vars: maps.Clone(vars)}
	return e.run(ev.prog)
}
