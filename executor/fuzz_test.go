package executor

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParse checks that no input makes Parse or Validate panic, and that a
// valid workflow survives a JSON round trip with the same verdict. The fuzz
// target never runs workflows: a fuzzed shell node could do anything.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		resumeWorkflow,
		`{"name": "w", "nodes": [{"id": "start", "type": "start"}], "connections": []}`,
		`{"nodes": [{"id": "start", "type": "start"}, {"id": "l", "type": "while", "config": {"condition": "x < 3"}}, {"id": "b", "type": "log", "config": {"message": "{{ x }}"}}],
		  "connections": [{"from": "start", "to": "l"}, {"from": "l", "to": "b", "port": "body"}, {"from": "b", "to": "l"}]}`,
		`{"nodes": [{"id": "start", "type": "start"}, {"id": "s", "type": "subworkflow", "config": {"workflow": {"nodes": [{"id": "start", "type": "start"}]}}}],
		  "connections": [{"from": "start", "to": "s"}]}`,
		`{"nodes": [{"id": "a", "type": "start", "retry": {"max": 2, "backoff": "1s"}, "timeout": "1m"}]}`,
		`{"nodes": [{"id": "x"}], "connections": [{"from": "x", "to": "y", "port": "error"}]}`,
		`{"variables": {"a": [1, {"b": null}]}, "meta": {"editor": 1}}`,
		`{"nodes": null}`,
		`{"limits": {"timeout": "2h", "max_steps": 500}, "nodes": [{"id": "start", "type": "start"}]}`,
		`{"limits": {"timeout": "-1s", "max_steps": -5}, "nodes": [{"id": "s", "type": "start", "retry": {"max": 99999}}]}`,
		`[]`,
		`{"name": 1}`,
		`{`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := Parse(data)
		if err != nil {
			if w != nil {
				t.Fatal("Parse returned a workflow and an error")
			}
			return
		}
		verr := Validate(w)
		var problems *ValidationError
		if verr != nil && !errors.As(verr, &problems) {
			t.Fatalf("Validate returned %T, want *ValidationError", verr)
		}
		if verr != nil && strings.TrimSpace(verr.Error()) == "" {
			t.Fatal("empty validation error")
		}
		again, err := json.Marshal(w)
		if err != nil {
			t.Fatalf("marshal a parsed workflow: %v", err)
		}
		w2, err := Parse(again)
		if err != nil {
			t.Fatalf("re-parse %s: %v", again, err)
		}
		if (Validate(w2) == nil) != (verr == nil) {
			t.Fatalf("validation verdict changed after a round trip:\n%s\n%v", again, verr)
		}
	})
}

// fuzzEvalBound is how long one fuzzed evaluation may take: its limits
// are 100 ms and 4 MiB, so only an evaluation that ignores them comes
// near it, even on a loaded machine.
const fuzzEvalBound = 3 * time.Second

// FuzzTemplate checks that splitting and compiling any string never panics,
// that a split re-joins into a string that splits the same way, and that
// evaluating a compiled template never panics, returns within a bound
// under a deadline, and leaves the variables as they were.
func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{
		"plain text",
		"{{ x }}",
		"a {{ x + 1 }} b {{ upper(s) }}",
		`{{ {"a": {"b": [1, 2]}} }}`,
		`{{ "}}" }}{{ '{{' }}`,
		"{{ items[0] ?? 'none' }}",
		"{{ filter(items, # > 1) }}",
		"{{ x",
		"}} {{",
		"{{ `raw }}` }}",
		"{{ 1..3 }}",
		"{{ sum }} {{ sum(items) }}",
		`{{ reduce(items, #acc + reduce(1..100000, #acc + #, 0), 0) }}`,
		`{{ repeat(repeat("a", 999999), 999999) }}`,
		`{{ toJSON(reduce(1..40, [#acc, #acc], s)) }}`,
		`{{ map(1..1000, map(1..1000, map(1..1000, #))) }}`,
		`{{ $env }} {{ keys($env) }}`,
	} {
		f.Add(seed)
	}
	vars := map[string]any{"x": 1, "s": "str", "items": []any{1.0, 2.0, 3.0}, "sum": 4}
	f.Fuzz(func(t *testing.T, s string) {
		segs, err := splitTemplate(s)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, seg := range segs {
			if seg.isExpr {
				b.WriteString("{{" + seg.text + "}}")
			} else {
				b.WriteString(seg.text)
			}
		}
		again, err := splitTemplate(b.String())
		if err != nil || !reflect.DeepEqual(mergeText(again), mergeText(segs)) {
			t.Fatalf("%q split into %+v; re-joined %q split into %+v (%v)", s, segs, b.String(), again, err)
		}
		v, err := compileValue(s, uncached{})
		if err != nil {
			return
		}
		if v == nil {
			if strings.Contains(s, "{{") {
				t.Fatalf("%q has a template but compiled to a literal", s)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		ev := evaluator{vars: maps.Clone(vars), ctx: ctx, limits: exprLimits{memory: 4 << 20, timeout: 100 * time.Millisecond}}
		start := time.Now()
		v.eval(&ev) // errors are fine; panics are not
		if took := time.Since(start); took > fuzzEvalBound {
			t.Fatalf("%q evaluated for %s", s, took)
		}
		if !reflect.DeepEqual(ev.vars, vars) {
			t.Fatalf("%q changed the variables: %v", s, ev.vars)
		}
	})
}

// mergeText joins adjacent text segments, which re-joining can create.
func mergeText(segs []segment) []segment {
	var out []segment
	for _, s := range segs {
		if n := len(out); n > 0 && !s.isExpr && !out[n-1].isExpr {
			out[n-1].text += s.text
			continue
		}
		out = append(out, s)
	}
	return out
}
