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
		{`"hello!"`, ""}, {`42`, ""}, {`"***"`, ""}, {`"***"`, ""}, {"", "was not handed"}, {"", "unexpected"},
	}
	for i, w := range want {
		g := got[i]
		if string(g.Value) != w.value || (w.err == "") != (g.Error == "") || !strings.Contains(g.Error, w.err) {
			t.Errorf("watch %q = %s, error %q; want %s, error containing %q", g.Expression, g.Value, g.Error, w.value, w.err)
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
