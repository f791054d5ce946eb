package executor

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSplitTemplate(t *testing.T) {
	cases := []struct {
		in      string
		want    []segment
		wantErr string
	}{
		{in: "plain", want: []segment{{text: "plain"}}},
		{in: "{{ x }}", want: []segment{{text: "x", isExpr: true}}},
		{in: "a {{x}} b {{ y + 1 }}", want: []segment{{text: "a "}, {text: "x", isExpr: true}, {text: " b "}, {text: "y + 1", isExpr: true}}},
		{in: `{{ {"a": {"b": 1}} }}`, want: []segment{{text: `{"a": {"b": 1}}`, isExpr: true}}},
		{in: `{{ "}}" + '}}' }} tail`, want: []segment{{text: `"}}" + '}}'`, isExpr: true}, {text: " tail"}}},
		{in: `{{ "a\"}}" }}`, want: []segment{{text: `"a\"}}"`, isExpr: true}}},
		{in: "}} stray", want: []segment{{text: "}} stray"}}},
		{in: "{{ x ", wantErr: "unterminated"},
		{in: "{{ }}", wantErr: "empty"},
	}
	for _, tc := range cases {
		got, err := splitTemplate(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestTemplateValues(t *testing.T) {
	vars := map[string]any{
		"n":     3,
		"f":     2.5,
		"big":   1e20,
		"name":  "bob",
		"list":  []any{1.0, "two"},
		"obj":   map[string]any{"k": "v"},
		"flag":  true,
		"sum":   "a variable named like a builtin",
		"stamp": time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC),
	}
	cases := []struct {
		in   string
		want any
	}{
		{"{{ n }}", 3},
		{"{{ n * 2 }}", 6},
		{"{{ list }}", []any{1.0, "two"}},
		{"{{ obj }}", map[string]any{"k": "v"}},
		{"{{ missing }}", nil},
		{"{{ sum }}", "a variable named like a builtin"},
		{"{{ sum([1, 2]) }}", 3},
		{" {{ n }}", " 3"},
		{"n={{ n }} f={{ f }} big={{ big }}", "n=3 f=2.5 big=1e+20"},
		{"{{ list }} {{ obj }} {{ flag }} [{{ missing }}]", `[1,"two"] {"k":"v"} true []`},
		{"{{ stamp }}", time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)},
		{"at {{ stamp }}", "at 2024-05-06T07:08:09Z"},
		{"{{ upper(name) }}-{{ len(list) }}", "BOB-2"},
		{"{{ obj.k ?? 'none' }} {{ obj.z ?? 'none' }}", "v none"},
	}
	for _, tc := range cases {
		v, err := compileValue(tc.in, uncached{})
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		ev := evaluator{vars: vars}
		got, err := v.eval(&ev)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestLiteralsAreNotCompiled(t *testing.T) {
	for _, raw := range []any{"no braces", 5.0, true, nil, []any{"a", 1.0}, map[string]any{"k": []any{"x"}}} {
		v, err := compileValue(raw, uncached{})
		if v != nil || err != nil {
			t.Errorf("%v: compiled to %v, %v", raw, v, err)
		}
	}
}

func TestExpressionsCompileOncePerEngine(t *testing.T) {
	e, _ := testEngine(t)
	w := linearWorkflow(200)
	for range 3 {
		mustSucceed(t, e.Run(background(t), w, RunOptions{}))
	}
	if n := len(e.programs.programs); n != 1 {
		t.Errorf("%d compiled programs, want 1", n)
	}
	if n := len(e.programs.templates); n != 1 {
		t.Errorf("%d compiled templates, want 1", n)
	}
}

func TestExpressionCacheIsBounded(t *testing.T) {
	c := newExprCache(10)
	for i := range 100 {
		if _, err := c.template("{{ " + strings.Repeat("1 + ", i) + "1 }}"); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.programs) > 10 || len(c.templates) > 10 {
		t.Errorf("cache grew to %d programs, %d templates", len(c.programs), len(c.templates))
	}
}

func TestEvaluate(t *testing.T) {
	got, err := Evaluate("{{ a + 1 }}", map[string]any{"a": 1})
	if err != nil || got != 2 {
		t.Errorf("Evaluate = %v, %v", got, err)
	}
	if _, err := Evaluate("a +", nil); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("want a one-line compile error, got %v", err)
	}
}
