package executor

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"time"
)

// call is one execution of a node: the run and the node. Node
// implementations read their config through its accessors, which evaluate
// templates and name the field in errors.
type call struct {
	r *run
	n *planNode
}

// value evaluates a field; ok is false when the field is not set.
func (c call) value(name string) (v any, ok bool, err error) {
	f := c.n.field(name)
	if f == nil {
		return nil, false, nil
	}
	if f.v == nil {
		return f.lit, true, nil
	}
	v, err = f.v.eval(&c.r.eval)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", name, err)
	}
	if err := c.checkStructure(name, f.v, v); err != nil {
		return nil, true, err
	}
	return v, true, nil
}

// checkStructure bounds a config list or object with templates in it:
// each template's result fits the expression budget, but a list may repeat
// a big variable many times, and nodes write such values out as JSON.
func (c call) checkStructure(name string, tmpl value, v any) error {
	switch tmpl.(type) {
	case mapValue, listValue:
	default:
		return nil
	}
	limit := c.r.eval.limits.orDefaults().memory
	if _, err := measure(v, limit); err != nil {
		return limitError("expression memory", "%s: the value is larger than %d MiB", name, limit>>20)
	}
	return nil
}

// str returns a field as a string, "" when unset.
func (c call) str(name string) (string, error) {
	v, _, err := c.value(name)
	if err != nil {
		return "", err
	}
	s, err := asString(v)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// requiredStr is str for fields that must not come out empty, for example
// because a template evaluated to nothing.
func (c call) requiredStr(name string) (string, error) {
	s, err := c.str(name)
	if err == nil && s == "" {
		err = fmt.Errorf("%s: is empty", name)
	}
	return s, err
}

func (c call) boolean(name string, def bool) (bool, error) {
	v, ok, err := c.value(name)
	if err != nil || !ok || v == nil {
		return def, err
	}
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			return false, fmt.Errorf("%s: want true or false, got %q", name, x)
		}
		return b, nil
	}
	return false, fmt.Errorf("%s: want true or false, got %s", name, jsonKind(v))
}

func (c call) integer(name string, def int) (int, error) {
	v, ok, err := c.value(name)
	if err != nil || !ok || v == nil {
		return def, err
	}
	switch x := v.(type) {
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int(x), nil
		}
	case string:
		if n, err := strconv.Atoi(x); err == nil {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: want an integer, got %s", name, describe(v))
}

func (c call) duration(name string, def time.Duration) (time.Duration, error) {
	v, ok, err := c.value(name)
	if err != nil || !ok || v == nil {
		return def, err
	}
	switch x := v.(type) {
	case time.Duration:
		return x, nil
	case string:
		d, err := parseDuration(x)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return d, nil
	}
	return 0, fmt.Errorf("%s: want a duration such as \"30s\", got %s", name, jsonKind(v))
}

func (c call) list(name string) ([]any, error) {
	v, _, err := c.value(name)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, nil
	}
	norm, err := toVariable(v)
	if l, ok := norm.([]any); ok && err == nil {
		return l, nil
	}
	return nil, fmt.Errorf("%s: want a list, got %s", name, jsonKind(v))
}

func (c call) strList(name string) ([]string, error) {
	l, err := c.list(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(l))
	for i, x := range l {
		s, err := asString(x)
		if err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", name, i, err)
		}
		out[i] = s
	}
	return out, nil
}

func (c call) object(name string) (map[string]any, error) {
	v, _, err := c.value(name)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	}
	norm, err := toVariable(v)
	if m, ok := norm.(map[string]any); ok && err == nil {
		return m, nil
	}
	return nil, fmt.Errorf("%s: want an object, got %s", name, jsonKind(v))
}

func (c call) strMap(name string) (map[string]string, error) {
	m, err := c.object(name)
	if err != nil || m == nil {
		return nil, err
	}
	out := make(map[string]string, len(m))
	for k, x := range m {
		s, err := asString(x)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", name, k, err)
		}
		out[k] = s
	}
	return out, nil
}

// condition evaluates an expression field that must be a boolean.
func (c call) condition(name string) (bool, error) {
	v, _, err := c.value(name)
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("%s: want a boolean, got %s", name, jsonKind(v))
	}
	return b, nil
}

// set stores a variable, within the caps on one variable and on all the
// variables the run sets.
func (c call) set(name string, v any) error {
	size, err := measure(v, MaxVariableBytes)
	switch {
	case errors.Is(err, errTooDeep):
		return limitError("variable depth", "variable %s is nested deeper than %d levels", name, maxValueDepth)
	case err != nil:
		return limitError("variable size", "variable %s is larger than %d MiB", name, MaxVariableBytes>>20)
	}
	total := c.r.varTotal - c.r.varSizes[name] + size
	if total > MaxVariablesBytes {
		return limitError("variables size", "variable %s: the run's variables would take more than %d MiB", name, MaxVariablesBytes>>20)
	}
	norm, err := toVariable(v)
	if err != nil {
		return fmt.Errorf("variable %s: %w", name, err)
	}
	if c.r.varSizes == nil {
		c.r.varSizes = map[string]int64{}
	}
	c.r.varSizes[name], c.r.varTotal = size, total
	c.r.vars[name] = norm
	return nil
}

// setOutput stores v in the variable named by the output_var field, if set.
func (c call) setOutput(v any) error {
	name, err := c.str("output_var")
	if err != nil || name == "" {
		return err
	}
	return c.set(name, v)
}

// log emits a log line of the node.
func (c call) log(level slog.Level, msg string) {
	msg = clip(msg, maxMessageBytes)
	if c.r.opts.OnEvent != nil {
		c.r.emit(Event{Time: time.Now(), Kind: EventLog, NodeID: c.n.id, NodeType: c.n.kind.Name, Level: level, Message: msg})
		return
	}
	c.r.engine.logger.Log(c.r.shared.ctx, level, msg, "workflow", c.r.plan.name, "node", c.r.prefix+c.n.id)
}

// path resolves a path against the engine's working directory.
func (c call) path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.r.engine.workDir == "" {
		return p
	}
	return filepath.Join(c.r.engine.workDir, p)
}

func asString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case nil, bool, int, int64, float64, time.Time, time.Duration:
		return stringify(x), nil
	}
	return "", fmt.Errorf("want a string, got %s", jsonKind(v))
}

// toVariable makes a value fit to store in a variable, which must survive
// a JSON round trip inside a checkpoint. Common JSON-shaped values pass
// through untouched; anything else goes through JSON once.
func toVariable(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return wholeToInt(x), nil
	case int64:
		return int(x), nil
	case nil, string, bool, int, map[string]any, []any:
		return v, nil
	case time.Time:
		return x.Format(time.RFC3339Nano), nil
	case time.Duration:
		return x.String(), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("a %T value cannot be stored: %w", v, err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, err
	}
	if f, ok := out.(float64); ok {
		return wholeToInt(f), nil
	}
	return out, nil
}

// wholeToInt stores whole numbers as int. Expressions need ints for
// operators such as % and .., while JSON decodes every number as float64;
// normalizing every top-level variable the same way, including those
// restored from a checkpoint, keeps a resumed run computing exactly what
// the original run would have.
func wholeToInt(f float64) any {
	if f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
		return int(f)
	}
	return f
}

// normalizeVars applies wholeToInt to the top-level values of vars.
func normalizeVars(vars map[string]any) {
	for k, v := range vars {
		switch x := v.(type) {
		case float64:
			vars[k] = wholeToInt(x)
		case int64:
			vars[k] = int(x)
		}
	}
}
