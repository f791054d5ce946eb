package executor

import (
	"testing"

	"github.com/expr-lang/expr"
)

// FuzzGuardCompiles checks that the guard never breaks an expression: what
// compiles as written also compiles with the guard, so validation's
// verdict (from the plain compile) holds for the program that runs.
func FuzzGuardCompiles(f *testing.F) {
	for _, s := range []string{"a + b", "filter(xs, # > 1)", "reduce(xs, #acc + #, 0)", "sortBy(xs, .a)", "all(xs, #) ? 1 : 2", "repeat('a', 3) + join(['a'], ',')", "-(1 + 2) % 3", "sum(xs, # * 2) > 3", "1 + 2 .. 5", "toJSON(x) | upper()", "let y = 1 + 2; y * 2", "count(map(xs, # + 1), # > 2)", "(a + b)?.c", "max(1 + 2, 3)", "split('a,b', ',')[0] + 'x'"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		opts := []expr.Option{expr.Env(map[string]any{}), expr.AllowUndefinedVariables(), expr.Patch(variablesFirst{})}
		if _, err := expr.Compile(src, opts...); err != nil {
			return
		}
		if _, err := expr.Compile(src, append(opts, guardOptions()...)...); err != nil {
			t.Fatalf("%q compiles plain but not guarded: %v", src, err)
		}
	})
}
