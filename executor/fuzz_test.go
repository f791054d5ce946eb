package executor

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
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

// FuzzTemplate checks that splitting and compiling any string never panics,
// that a split re-joins into a string that splits the same way, and that
// evaluating a compiled template never panics.
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
		ev := evaluator{vars: vars}
		v.eval(&ev) // errors are fine; panics are not
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
