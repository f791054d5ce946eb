package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
)

// segment is one piece of a template string: literal text or an expression.
type segment struct {
	text   string
	isExpr bool
}

// splitTemplate cuts s into literal text and {{ expression }} segments. The
// end of an expression is the first "}}" outside string literals and
// brackets, so map literals such as {{ {"a": {"b": 1}} }} work.
func splitTemplate(s string) ([]segment, error) {
	var segs []segment
	for {
		open := strings.Index(s, "{{")
		if open < 0 {
			if s != "" {
				segs = append(segs, segment{text: s})
			}
			return segs, nil
		}
		if open > 0 {
			segs = append(segs, segment{text: s[:open]})
		}
		body := s[open+2:]
		end, err := expressionEnd(body)
		if err != nil {
			return nil, err
		}
		src := strings.TrimSpace(body[:end])
		if src == "" {
			return nil, errors.New("empty {{ }} expression")
		}
		segs = append(segs, segment{text: src, isExpr: true})
		s = body[end+2:]
	}
}

// expressionEnd returns the index of the "}}" that closes an expression.
func expressionEnd(s string) (int, error) {
	depth := 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if quote != 0 {
			switch {
			case c == '\\' && quote != '`':
				i++
			case c == quote:
				quote = 0
			}
			continue
		}
		switch c {
		case '"', '\'', '`':
			quote = c
		case '(', '[', '{':
			depth++
		case ')', ']':
			depth--
		case '}':
			if depth == 0 && i+1 < len(s) && s[i+1] == '}' {
				return i, nil
			}
			depth--
		}
	}
	return 0, errors.New("unterminated {{: missing }}")
}

// hasTemplate reports whether s contains template syntax.
func hasTemplate(s string) bool { return strings.Contains(s, "{{") }

// value is a config value prepared for evaluation: a literal, an expression
// or a structure holding some of them.
type value interface {
	eval(ev *evaluator) (any, error)
}

type literalValue struct{ v any }

func (l literalValue) eval(*evaluator) (any, error) { return l.v, nil }

// exprValue is a string that is exactly one expression; it yields the
// expression's typed result.
type exprValue struct {
	src  string
	prog *vm.Program
}

func (e exprValue) eval(ev *evaluator) (any, error) {
	v, err := ev.run(e.prog)
	if err != nil {
		return nil, fmt.Errorf("expression {{ %s }}: %w", e.src, exprError{err})
	}
	return v, nil
}

// textValue is a string with expressions spliced into text.
type textValue struct {
	segs  []segment
	progs []*vm.Program // parallel to segs; nil for text
}

func (t textValue) eval(ev *evaluator) (any, error) {
	var b strings.Builder
	for i, seg := range t.segs {
		if !seg.isExpr {
			b.WriteString(seg.text)
			continue
		}
		v, err := ev.run(t.progs[i])
		if err != nil {
			return nil, fmt.Errorf("expression {{ %s }}: %w", seg.text, exprError{err})
		}
		// Each part fits the budget, but a template may repeat a big
		// variable many times: the text as a whole must fit too.
		part := stringify(v)
		if limit := ev.limits.orDefaults().memory; int64(b.Len())+int64(len(part)) > limit {
			return nil, limitError("expression memory", "the text of the template is larger than %d MiB", limit>>20)
		}
		b.WriteString(part)
	}
	return b.String(), nil
}

type mapValue struct {
	keys []string
	vals []value
}

func (m mapValue) eval(ev *evaluator) (any, error) {
	out := make(map[string]any, len(m.keys))
	for i, k := range m.keys {
		v, err := m.vals[i].eval(ev)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = v
	}
	return out, nil
}

type listValue struct{ vals []value }

func (l listValue) eval(ev *evaluator) (any, error) {
	out := make([]any, len(l.vals))
	for i, v := range l.vals {
		x, err := v.eval(ev)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = x
	}
	return out, nil
}

// compileValue prepares a JSON config value. It returns nil for a value
// without templates, which callers use as is, so literals cost nothing per
// node run.
func compileValue(raw any, c compiler) (value, error) {
	switch v := raw.(type) {
	case string:
		if !hasTemplate(v) {
			return nil, nil
		}
		return c.template(v)
	case map[string]any:
		var m mapValue
		dynamic := false
		for k, x := range v {
			cv, err := compileValue(x, c)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if cv == nil {
				cv = literalValue{x}
			} else {
				dynamic = true
			}
			m.keys = append(m.keys, k)
			m.vals = append(m.vals, cv)
		}
		if !dynamic {
			return nil, nil
		}
		return m, nil
	case []any:
		l := listValue{vals: make([]value, len(v))}
		dynamic := false
		for i, x := range v {
			cv, err := compileValue(x, c)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if cv == nil {
				cv = literalValue{x}
			} else {
				dynamic = true
			}
			l.vals[i] = cv
		}
		if !dynamic {
			return nil, nil
		}
		return l, nil
	default:
		return nil, nil
	}
}

// compileTemplate prepares a string that contains {{ }}.
func compileTemplate(s string, c compiler) (value, error) {
	segs, err := splitTemplate(s)
	if err != nil {
		return nil, err
	}
	if len(segs) == 1 && segs[0].isExpr {
		prog, err := c.compile(segs[0].text)
		if err != nil {
			return nil, fmt.Errorf("expression {{ %s }}: %w", segs[0].text, exprError{err})
		}
		return exprValue{src: segs[0].text, prog: prog}, nil
	}
	t := textValue{segs: segs, progs: make([]*vm.Program, len(segs))}
	for i, seg := range segs {
		if !seg.isExpr {
			continue
		}
		prog, err := c.compile(seg.text)
		if err != nil {
			return nil, fmt.Errorf("expression {{ %s }}: %w", seg.text, exprError{err})
		}
		t.progs[i] = prog
	}
	return t, nil
}

// isWholeExpression reports whether s, ignoring surrounding spaces, starts
// with {{ and ends with }}.
func isWholeExpression(s string) bool {
	s = strings.TrimSpace(s)
	return strings.HasPrefix(s, "{{") && strings.HasSuffix(s, "}}")
}

// compileCondition prepares a bare expression, as used by if and while. A
// condition wrapped in {{ }} is accepted too, since users write both.
func compileCondition(src string, c compiler) (exprValue, error) {
	src = strings.TrimSpace(src)
	if isWholeExpression(src) {
		segs, err := splitTemplate(src)
		if err == nil && len(segs) == 1 && segs[0].isExpr {
			src = segs[0].text
		}
	}
	if src == "" {
		return exprValue{}, errors.New("empty expression")
	}
	prog, err := c.compile(src)
	if err != nil {
		return exprValue{}, fmt.Errorf("expression %q: %w", src, exprError{err})
	}
	return exprValue{src: src, prog: prog}, nil
}

// exprError keeps only the first line of an expr error. expr appends the
// source with a caret under the problem, which breaks the one line per
// problem of validation output and log lines; the first line already gives
// the position.
type exprError struct{ err error }

func (e exprError) Error() string {
	msg, _, _ := strings.Cut(e.err.Error(), "\n")
	return msg
}

func (e exprError) Unwrap() error { return e.err }

// evaluator runs compiled expressions against a run's variables. It reuses
// one expr VM, so evaluating does not allocate a VM per expression.
type evaluator struct {
	machine vm.VM
	vars    map[string]any
	// ctx is the context of the node being run; evaluation stops when it
	// ends. Nil means no deadline but the evaluation's own.
	ctx    context.Context
	limits exprLimits
	budget budget
	// secrets are what secret("NAME") returns in this run.
	secrets map[string]string
}

// run evaluates p under a fresh budget. The budget sits in the variables
// only while the program runs (see guard.go); a variable that happens to
// have its name is put back.
func (ev *evaluator) run(p *vm.Program) (any, error) {
	if ev.vars == nil {
		ev.vars = map[string]any{}
	}
	ev.budget.reset(ev.ctx, ev.limits)
	ev.budget.secrets = ev.secrets
	prev, had := ev.vars[budgetKey]
	ev.vars[budgetKey] = &ev.budget
	v, err := ev.machine.Run(p, ev.vars)
	if had {
		ev.vars[budgetKey] = prev
	} else {
		delete(ev.vars, budgetKey)
	}
	if err != nil {
		return nil, withUnset(vmError(err), p, ev.vars)
	}
	// A result may share parts many times over; what it takes written
	// out must fit the budget before anything writes it out.
	if _, err := measure(v, ev.budget.limits.memory); err != nil {
		return nil, measureError("result", err, &ev.budget)
	}
	return v, nil
}

// vmError turns the VM's own memory check, which it reports as a panic
// message without a type, into the limit error it is.
func vmError(err error) error {
	var limit *LimitError
	if !errors.As(err, &limit) && strings.Contains(err.Error(), "memory budget exceeded") {
		return limitError("expression memory", "%v (expr counts list and map elements)", exprError{err})
	}
	return err
}

// stringify renders a value for a text template.
func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return formatFloat(x)
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	case error:
		return x.Error()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// formatFloat prints integral floats without a fraction, because JSON
// numbers decode as float64 and users expect "3", not "3e+00" or "3.0".
func formatFloat(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
