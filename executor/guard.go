package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/vm/runtime"
)

// Expressions are guarded at compile time: expr's VM cannot be
// interrupted and charges memory only after it allocates, so a patch
// (guard) rewrites every expression so that it checks a budget itself:
//
//   - the body of every predicate (map, filter, reduce, all, ...) — the
//     only loops expr has — becomes $step($env, body), which checks the
//     deadline and charges memory once per iteration;
//   - + becomes $add($env, a, b), which charges a string concatenation
//     before it allocates;
//   - builtins whose output can be much larger than their input (repeat,
//     join, replace, split, toJSON, string, flatten, concat, ...) become
//     guarded versions that compute the output size first, charge it,
//     then call expr's own implementation.
//
// The budget of the running evaluation sits in the environment under
// budgetKey while it runs (a name no variable can have, because variable
// names start with a letter or _): the compiled program is shared by
// concurrent runs, so the budget cannot be bound into it.

// budgetKey is where an evaluation's budget is in its environment.
const budgetKey = "$budget"

// stepBytes is what one loop iteration is charged: about the result slot
// map and filter append per item (16 bytes) and the doubled slots of
// groupBy and sortBy; it also caps iterations per evaluation at
// memory/stepBytes.
const stepBytes = 16

// clockEvery is how many steps pass between two looks at the clock for
// the evaluation's own time limit; the context is checked every step.
const clockEvery = 256

// exprLimits bound one evaluation.
type exprLimits struct {
	memory  int64
	timeout time.Duration
}

func (l exprLimits) orDefaults() exprLimits {
	if l.memory <= 0 {
		l.memory = DefaultExpressionMemory
	}
	if l.timeout <= 0 {
		l.timeout = DefaultExpressionTimeout
	}
	return l
}

// budget is the state of one evaluation's limits.
type budget struct {
	ctx     context.Context // nil: no deadline but the evaluation's own
	limits  exprLimits
	used    int64
	steps   int
	started time.Time // at the first step
	// secrets are the run's vault values, read by secret().
	secrets map[string]string
}

func (b *budget) reset(ctx context.Context, l exprLimits) {
	*b = budget{ctx: ctx, limits: l.orDefaults()}
}

// charge accounts for n bytes about to be allocated.
func (b *budget) charge(n int64) error {
	if n < 0 || n > b.limits.memory-b.used {
		return limitError("expression memory", "an expression needs more than %d MiB", b.limits.memory>>20)
	}
	b.used += n
	return nil
}

// left is how many bytes the evaluation may still allocate.
func (b *budget) left() int64 { return b.limits.memory - b.used }

// step is called once per loop iteration.
func (b *budget) step() error {
	if err := b.charge(stepBytes); err != nil {
		return err
	}
	if err := b.alive(); err != nil {
		return err
	}
	b.steps++
	if b.steps == 1 {
		b.started = time.Now()
	} else if b.steps%clockEvery == 0 && time.Since(b.started) > b.limits.timeout {
		return limitError("expression time", "an expression ran for more than %s", b.limits.timeout)
	}
	return nil
}

// alive reports the end of the context the evaluation runs under.
func (b *budget) alive() error {
	if b.ctx == nil {
		return nil
	}
	select {
	case <-b.ctx.Done():
		return fmt.Errorf("expression stopped: %w", context.Cause(b.ctx))
	default:
		return nil
	}
}

// guardOptions are the compile options that install the guard.
func guardOptions() []expr.Option {
	opts := []expr.Option{
		expr.Patch(guard{}),
		expr.Function("$step", guarded(func(b *budget, args []any) (any, error) {
			if err := b.step(); err != nil {
				return nil, err
			}
			return args[0], nil
		})),
		expr.Function("$add", guarded(guardAdd)),
		expr.Function("$"+secretFunc, guarded(lookupSecret)),
	}
	for name, fn := range guardedBuiltins {
		opts = append(opts, expr.Function("$"+name, guarded(fn)))
	}
	return opts
}

// guard is the patch that rewrites expressions; see above.
type guard struct{}

func (guard) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.PredicateNode:
		body := &ast.CallNode{Callee: &ast.IdentifierNode{Value: "$step"}, Arguments: []ast.Node{&ast.IdentifierNode{Value: "$env"}, n.Node}}
		body.SetLocation(n.Node.Location())
		n.Node = body
	case *ast.BuiltinNode:
		if _, ok := guardedBuiltins[n.Name]; ok {
			ast.Patch(node, guardCall("$"+n.Name, n.Arguments...))
		}
	case *ast.BinaryNode:
		if n.Operator == "+" {
			ast.Patch(node, guardCall("$add", n.Left, n.Right))
		}
	case *ast.CallNode:
		// secret("NAME") reads the run's secrets, which sit with the
		// budget in the environment.
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == secretFunc {
			ast.Patch(node, guardCall("$"+secretFunc, n.Arguments...))
		}
	}
}

func guardCall(name string, args ...ast.Node) *ast.CallNode {
	return &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: name},
		Arguments: append([]ast.Node{&ast.IdentifierNode{Value: "$env"}}, args...),
	}
}

// guardFunc is a guarded operation: the budget, then the user's arguments.
type guardFunc func(b *budget, args []any) (any, error)

// guarded adapts a guardFunc to expr's function signature, whose first
// argument is the environment holding the budget.
func guarded(fn guardFunc) func(args ...any) (any, error) {
	return func(args ...any) (any, error) {
		var b *budget
		if len(args) > 0 {
			if env, ok := args[0].(map[string]any); ok {
				b, _ = env[budgetKey].(*budget)
			}
		}
		if b == nil {
			return nil, errors.New("internal error: expression evaluated without a budget")
		}
		// Only loops look at the deadline: everything else an
		// expression does is bounded by its length and its memory, and a
		// node whose short expression has begun may finish.
		return fn(b, args[1:])
	}
}

// guardAdd is +: strings are charged before they are joined.
func guardAdd(b *budget, args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("+ needs two operands")
	}
	if x, ok := args[0].(string); ok {
		if y, ok := args[1].(string); ok {
			if err := b.charge(int64(len(x)) + int64(len(y))); err != nil {
				return nil, err
			}
			return x + y, nil
		}
	}
	return runtime.Add(args[0], args[1]), nil
}

// guardedBuiltins are the builtins replaced by guarded versions.
var guardedBuiltins = map[string]guardFunc{
	"repeat":     guardRepeat,
	"join":       guardJoin,
	"replace":    guardReplace,
	"split":      guardSplit("split"),
	"splitAfter": guardSplit("splitAfter"),
	"fromJSON":   guardFromJSON,
	"toJSON":     measured("toJSON", 2),
	"string":     measured("string", 0),
	"flatten":    measured("flatten", 0),
	"concat":     measured("concat", 0),
	"max":        measured("max", 0),
	"min":        measured("min", 0),
	"mean":       measured("mean", 0),
	"median":     measured("median", 0),
	"toPairs":    measured("toPairs", 0),
	"values":     measured("values", 0),
	"keys":       measured("keys", 0),
}

// callBuiltin runs expr's own implementation of a builtin.
func callBuiltin(name string, args []any) (any, error) {
	f := builtin.Builtins[builtin.Index[name]]
	switch {
	case f.Fast != nil:
		if len(args) != 1 {
			return nil, fmt.Errorf("%s: want 1 argument, got %d", name, len(args))
		}
		return f.Fast(args[0]), nil
	case f.Safe != nil:
		out, _, err := f.Safe(args...)
		return out, err
	default:
		return f.Func(args...)
	}
}

// measured guards a builtin whose output is about as large as its
// arguments written out (indent: bytes of indentation per nesting level,
// as toJSON writes): the arguments are measured, with an early stop,
// and charged first.
func measured(name string, indent int64) guardFunc {
	return func(b *budget, args []any) (any, error) {
		m := measurer{limit: b.left(), indent: indent}
		for _, a := range args {
			if err := m.walk(a, 0); err != nil {
				return nil, measureError(name, err, b)
			}
		}
		if err := b.charge(m.size); err != nil {
			return nil, err
		}
		return callBuiltin(name, args)
	}
}

func measureError(name string, err error, b *budget) error {
	if errors.Is(err, errTooDeep) {
		return limitError("value depth", "%s: a value is nested deeper than %d levels", name, maxValueDepth)
	}
	return limitError("expression memory", "%s: the result needs more than %d MiB", name, b.limits.memory>>20)
}

func guardRepeat(b *budget, args []any) (any, error) {
	if len(args) != 2 {
		return nil, fmt.Errorf("repeat: want 2 arguments, got %d", len(args))
	}
	s, ok := args[0].(string)
	n, okN := toInt(args[1])
	if !ok || !okN {
		return callBuiltin("repeat", args) // expr's own type errors
	}
	if n > 0 && int64(len(s)) > b.left()/int64(n) {
		return nil, limitError("expression memory", "repeat: %d × %d bytes is more than the %d MiB an expression may use", n, len(s), b.limits.memory>>20)
	}
	if err := b.charge(int64(len(s)) * int64(max(n, 0))); err != nil {
		return nil, err
	}
	return callBuiltin("repeat", args)
}

func guardJoin(b *budget, args []any) (any, error) {
	if len(args) < 1 || len(args) > 2 {
		return nil, fmt.Errorf("join: want 1 or 2 arguments, got %d", len(args))
	}
	glue := ""
	if len(args) == 2 {
		glue, _ = args[1].(string)
	}
	var size int64
	switch l := args[0].(type) {
	case []any:
		for _, e := range l {
			s, _ := e.(string)
			size += int64(len(s)) + int64(len(glue))
			if size > b.left() {
				break
			}
		}
	case []string:
		for _, s := range l {
			size += int64(len(s)) + int64(len(glue))
			if size > b.left() {
				break
			}
		}
	}
	if err := b.charge(size); err != nil {
		return nil, err
	}
	return callBuiltin("join", args)
}

func guardReplace(b *budget, args []any) (any, error) {
	if len(args) != 3 && len(args) != 4 {
		return nil, fmt.Errorf("replace: want 3 or 4 arguments, got %d", len(args))
	}
	s, ok1 := args[0].(string)
	old, ok2 := args[1].(string)
	repl, ok3 := args[2].(string)
	if !ok1 || !ok2 || !ok3 {
		return callBuiltin("replace", args)
	}
	count := int64(strings.Count(s, old))
	if len(args) == 4 {
		if n, ok := args[3].(int); ok && n >= 0 {
			count = min(count, int64(n))
		}
	}
	grow := count * int64(max(len(repl)-len(old), 0))
	if count > 0 && int64(len(repl)) > b.left()/count {
		grow = b.left() + 1
	}
	if err := b.charge(int64(len(s)) + grow); err != nil {
		return nil, err
	}
	return callBuiltin("replace", args)
}

// guardSplit charges the substrings' headers: split("…", "") makes one
// 16-byte string header per character.
func guardSplit(name string) guardFunc {
	return func(b *budget, args []any) (any, error) {
		if len(args) >= 2 {
			s, ok1 := args[0].(string)
			sep, ok2 := args[1].(string)
			if ok1 && ok2 {
				parts := int64(strings.Count(s, sep)) + 1
				if sep == "" {
					parts = int64(utf8.RuneCountInString(s))
				}
				if err := b.charge(parts * 16); err != nil {
					return nil, err
				}
			}
		}
		return callBuiltin(name, args)
	}
}

// guardFromJSON charges an estimate of the decoded value: decoded JSON
// takes many times its text, most for objects (a map each) and lists.
func guardFromJSON(b *budget, args []any) (any, error) {
	if len(args) == 1 {
		if s, ok := args[0].(string); ok {
			if err := b.charge(decodedSize(s)); err != nil {
				return nil, err
			}
		}
	}
	return callBuiltin("fromJSON", args)
}

// toInt reads a count the way expr's builtins do (any number, truncated),
// so that a guard cannot be passed by a float where the builtin takes it.
func toInt(v any) (int, bool) {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return runtime.ToInt(v), true
	}
	return 0, false
}

// decodedSize estimates the memory JSON text takes once decoded into Go
// values: a map per object (about 256 bytes with its first entries), an
// interface slot and slice growth per element.
func decodedSize(text string) int64 {
	return 2*int64(len(text)) + 256*int64(strings.Count(text, "{")) +
		32*int64(strings.Count(text, "[")+strings.Count(text, ","))
}

// checkDecode refuses JSON text whose decoded form would take more memory
// than an expression may, before it is decoded (json_parse, JSON
// response bodies): a 4 MiB text of empty objects decodes to hundreds of
// megabytes.
func checkDecode(field, text string) error {
	if est := decodedSize(text); est > DefaultExpressionMemory {
		return limitError("decoded JSON size", "%s: decoding would take about %d MiB, more than %d MiB", field, est>>20, DefaultExpressionMemory>>20)
	}
	return nil
}
