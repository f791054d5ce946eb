package executor

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"sort"
	"strings"
)

// Redacted replaces a secret's value wherever a run lets it out.
const Redacted = "***"

// redactor replaces the run's secret values in everything the run lets
// out: event messages and errors, checkpoints, the result and the
// debugger's view of the variables. It knows the values of the secrets
// handed to the run and, each time it is used, the current values of the
// workflow's secret_variables. Each value is also matched base64- and
// JSON-encoded, the forms a workflow most often turns a credential into
// (a basic-auth header, a JSON body).
type redactor struct {
	fixed    []string // from the vault, longest first
	varNames []string
}

func newRedactor(secrets map[string]string, secretVars []string) *redactor {
	r := &redactor{varNames: secretVars}
	for _, v := range secrets {
		r.fixed = appendForms(r.fixed, v)
	}
	sortLongestFirst(r.fixed)
	return r
}

// add hides one more value from now on.
func (r *redactor) add(v string) {
	r.fixed = appendForms(r.fixed, v)
	sortLongestFirst(r.fixed)
}

// keep hides the current values of the secret variables in vars from now
// on, whatever they are called later: a subworkflow gets them as params
// under its own names, which the workflow's secret_variables do not list.
func (r *redactor) keep(vars map[string]any) {
	if r == nil || len(r.varNames) == 0 {
		return
	}
	for _, name := range r.varNames {
		if v, ok := vars[name]; ok && v != nil {
			r.fixed = appendForms(r.fixed, stringify(v))
		}
	}
	sortLongestFirst(r.fixed)
}

// active reports whether the redactor has anything to hide.
func (r *redactor) active() bool { return r != nil && (len(r.fixed) > 0 || len(r.varNames) > 0) }

// appendForms adds a value and its encoded forms.
func appendForms(out []string, v string) []string {
	if v == "" {
		return out
	}
	out = append(out, v, base64.StdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v)))
	// JSON inside a string (a response body a node kept) holds the value
	// escaped, with or without HTML escapes depending on who wrote it.
	for _, html := range []bool{true, false} {
		if esc := jsonEscaped(v, html); esc != v && !slices.Contains(out, esc) {
			out = append(out, esc)
		}
	}
	return out
}

func jsonEscaped(v string, html bool) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(html)
	if err := enc.Encode(v); err != nil {
		return v
	}
	s := strings.TrimSuffix(b.String(), "\n")
	return s[1 : len(s)-1]
}

func sortLongestFirst(s []string) {
	sort.SliceStable(s, func(i, j int) bool { return len(s[i]) > len(s[j]) })
}

// values returns what to hide now: the vault's values and the current
// values of the secret variables in vars.
func (r *redactor) values(vars map[string]any) []string {
	if r == nil {
		return nil
	}
	if len(r.varNames) == 0 {
		return r.fixed
	}
	out := append([]string(nil), r.fixed...)
	for _, name := range r.varNames {
		if v, ok := vars[name]; ok && v != nil {
			out = appendForms(out, stringify(v))
		}
	}
	sortLongestFirst(out)
	return out
}

// text hides values in s.
func redactText(s string, values []string) string {
	for _, v := range values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// redactValue returns v with values hidden in every string it holds. It
// copies what it changes and leaves v itself alone: the run goes on with
// the real values.
func redactValue(v any, values []string) any {
	switch x := v.(type) {
	case string:
		return redactText(x, values)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = redactValue(e, values)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e, values)
		}
		return out
	case nil, bool, int, int64, float64:
		return v
	}
	// Anything else (numbers of other types, structures a node stored)
	// is written out as JSON by the robot: hide values in that form.
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	s := string(b)
	if r := redactText(s, values); r != s {
		return r
	}
	return v
}

// vars returns a redacted copy of a variable map; secret variables are
// hidden whole, whatever their type.
func (r *redactor) vars(vars map[string]any, values []string) map[string]any {
	out := make(map[string]any, len(vars))
	for k, v := range vars {
		out[k] = redactValue(v, values)
	}
	for _, name := range r.varNames {
		if _, ok := out[name]; ok {
			out[name] = Redacted
		}
	}
	return out
}

// checkpoint returns cp with values hidden.
func (r *redactor) checkpoint(cp Checkpoint, current map[string]any) Checkpoint {
	if !r.active() {
		return cp
	}
	values := r.values(current)
	cp.Variables = r.vars(cp.Variables, values)
	if len(cp.Loops) > 0 {
		loops := make([]LoopPosition, len(cp.Loops))
		for i, l := range cp.Loops {
			l.Items, _ = redactValue(l.Items, values).([]any)
			loops[i] = l
		}
		cp.Loops = loops
	}
	return cp
}

// event returns ev with values hidden in its message and error.
func (r *redactor) event(ev Event, current map[string]any) Event {
	if !r.active() {
		return ev
	}
	values := r.values(current)
	ev.Message, ev.Error = redactText(ev.Message, values), redactText(ev.Error, values)
	return ev
}

// debugVars is the debugger's view of the live variables.
func (r *redactor) debugVars(vars map[string]any) map[string]any {
	if !r.active() {
		return vars
	}
	return r.vars(maps.Clone(vars), r.values(vars))
}
