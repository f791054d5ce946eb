package executor

import (
	"errors"
	"slices"
	"testing"
)

// TestUnsetVariablesAreNamed: an expression that fails on nothing names
// the variables it reads that have no value (missing or null), and only
// those: not functions, let-bound names or closure arguments, and not
// when the failure is not about nothing.
func TestUnsetVariablesAreNamed(t *testing.T) {
	vars := map[string]any{"s": "x", "n": 1, "null": nil, "xs": []any{1}, "obj": map[string]any{}}
	for src, want := range map[string][]string{
		`upper(missing)`:                 {"missing"},
		`upper(null)`:                    {"null"},
		`s + a + b + a`:                  {"a", "b"},
		`let v = 1; v + missing`:         {"missing"},
		`map(xs, # + missing)`:           {"missing"},
		`len(missing) + len(s) + n`:      {"missing"},
		`missing.field.other`:            {"missing"},
		`upper(s) + lower(missing) + s`:  {"missing"},
		`"a" + 1 + (missing ?? 0)`:       nil, // fails on a number and text, not on nothing
		`s + 1`:                          nil,
		`upper(n) + (missing ?? "d")`:    nil,
		`int("q") + (missing ?? 1)`:      nil,
		`xs[3] + missing`:                nil, // the index fails first
		`upper(s) + lower(n) + missing`:  nil,
		`upper(s) + s[0:1] + missing[0]`: {"missing"},
		`upper(n) + (vanilla ?? "d")`:    nil, // the drawn expression says "nil", the message does not
		`upper(n) + (missing ?? nil)`:    nil,
		`upper(date)`:                    {"date"}, // a builtin's name, read from $env
		`upper($env.missing)`:            {"missing"},
		// Read only where nothing is allowed, missing is not what failed.
		`upper(obj.a) + (missing ?? "d")`:         nil,
		`upper(obj.a) + (missing?.b ?? "d")`:      nil,
		`upper(null) + (missing ?? "d")`:          {"null"},
		`upper(missing) + (missing ?? "d")`:       {"missing"},
		`upper(obj.a) + (missing?.b.c ?? "d")`:    nil,
		`upper(obj.a) + (missing?.[0] ?? "d")`:    nil,
		`upper(obj.a) + (date ?? "d")`:            nil,
		`upper(obj.a) + ($env.missing ?? "d")`:    nil,
		`upper(obj.a) + ($env.missing?.b ?? "d")`: nil,
		// The nothing is handed on, or missing fails itself.
		`upper(missing?.b)`:                      {"missing"},
		`upper(missing?.b.c)`:                    {"missing"},
		`upper(missing ?? nil)`:                  {"missing"},
		`upper(missing.b ?? "d") + upper(obj.a)`: {"missing"},
		`upper(obj.a) + (missing.b?.c ?? "d")`:   {"missing"},
	} {
		_, err := Evaluate(src, vars)
		if err == nil {
			t.Errorf("%s: no error", src)
			continue
		}
		var unset *UnsetError
		got := errors.As(err, &unset)
		if got != (want != nil) || (got && !slices.Equal(unset.Names, want)) {
			t.Errorf("%s: %v; want unset %v", src, err, want)
		}
	}
}
