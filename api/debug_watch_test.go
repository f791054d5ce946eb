package api

import (
	"encoding/json"
	"strings"
	"testing"
)

// A watch is evaluated over the redacted variables: a secret, or
// anything computed from it, shows as ***, and secret() reads nothing.
func TestWatchesSeeOnlyRedactedVariables(t *testing.T) {
	vars := json.RawMessage(`{"greeting":"hello","n":2,"token":"***"}`)
	got := evalWatches(vars, []string{`greeting + "!"`, `n * 21`, `token`, `upper(token)`, `secret("TOKEN")`, `1 +`})
	want := []struct{ value, err string }{
		{`"hello!"`, ""}, {`42`, ""}, {`"***"`, ""}, {`"***"`, ""},
		{"", `secret("TOKEN") gives nothing here: a watch sees only the variables, with secrets as ***`},
		{"", "the expression ends too early"},
	}
	for i, w := range want {
		g := got[i]
		if string(g.Value) != w.value || g.Error != w.err {
			t.Errorf("watch %q = %s, error %q; want %s, error %q", g.Expression, g.Value, g.Error, w.value, w.err)
		}
	}
}

// A watch that fails says in one short line what is wrong with the
// expression and where, in the language's words: no Go type names, no
// wrapped internals, no copy of the expression.
func TestWatchErrorsAreShortAndNameTheProblem(t *testing.T) {
	vars := json.RawMessage(`{"name":"ann","n":2,"m":{"a":1},"xs":[1,2]}`)
	for expr, want := range map[string]string{
		`name +`:               "the expression ends too early",
		`n +* 2`:               `unexpected "*" (column 4)`,
		`missing.field`:        `cannot read "field": the value before it is not set (column 9); missing is not set`,
		`upper(greeting)`:      "needs text here, not nothing (column 1); greeting is not set",
		`pin + "-" + name`:     "cannot use + on nothing and text (column 5); pin is not set",
		`a + b`:                "cannot use + on nothing and nothing (column 3); not set: a, b",
		`let a = 1; a + b`:     "cannot use + on a number and nothing (column 14); b is not set",
		`-nope`:                "cannot use - on nothing (column 1); nope is not set",
		`m.a.b`:                `cannot read "b" from a number (column 5)`,
		`nope(1)`:              "calls a function that does not exist (column 1)",
		`xs[5]`:                "index 5 is out of range: the list has 2 items (column 3)",
		`"a" + 1`:              "cannot use + on text and a number (column 5)",
		`upper(1)`:             "upper needs text here, not a number (column 7)",
		`len(5)`:               "len cannot take a number (column 1)",
		`n / 0`:                "the value is +Inf, which a watch cannot show",
		`map(1..100000000, #)`: "the value is too large: the expression needs more memory than it may use",
	} {
		got := evalWatches(vars, []string{expr})[0]
		if got.Error != want || got.Value != nil {
			t.Errorf("watch %q: error %q, value %s; want error %q", expr, got.Error, got.Value, want)
		}
		for _, raw := range []string{"float64", "interface", "<nil>", "\n", "expression \"", "(1:"} {
			if strings.Contains(got.Error, raw) {
				t.Errorf("watch %q: error %q shows %q", expr, got.Error, raw)
			}
		}
	}
}

func TestWatchExpressionsAreBounded(t *testing.T) {
	for _, bad := range [][]string{{""}, {strings.Repeat("a", maxWatchLen+1)}, make([]string, maxDebugWatches+1), {"\xff"}} {
		if _, err := watchExpressions(bad); err == nil || !strings.Contains(err.Error(), "watch") {
			t.Errorf("watchExpressions(%d exprs) = %v, want an error naming watch", len(bad), err)
		}
	}
	if _, err := watchExpressions([]string{"a", "b.c"}); err != nil {
		t.Fatal(err)
	}
}

// FuzzEvalWatches: no expression or variables may panic or hang the
// evaluation that serves a debug GET.
func FuzzEvalWatches(f *testing.F) {
	f.Add(`{"a":1}`, `a + 1`)
	f.Add(`{"s":"***"}`, `secret("S")`)
	f.Add(`[]`, `map(1..100000, # * 2)`)
	f.Fuzz(func(t *testing.T, vars, expr string) {
		if _, err := watchExpressions([]string{expr}); err != nil {
			return
		}
		w := evalWatches(json.RawMessage(vars), []string{expr})
		if len(w) != 1 || (w[0].Value == nil) == (w[0].Error == "") {
			t.Fatalf("watch %q: %+v", expr, w)
		}
	})
}
