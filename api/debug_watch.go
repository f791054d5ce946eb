package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/executor"
)

// Bounds of the watch expressions one GET /jobs/{id}/debug evaluates.
const (
	maxDebugWatches   = 32
	maxWatchLen       = 1024
	maxWatchValueSize = 16 << 10
)

// watchExpressions reads the watch query parameters.
func watchExpressions(exprs []string) ([]string, error) {
	if len(exprs) > maxDebugWatches {
		return nil, invalidField("watch", "%d watch expressions, at most %d", len(exprs), maxDebugWatches)
	}
	for i, e := range exprs {
		switch {
		case e == "":
			return nil, invalidField("watch", "watch %d is empty", i+1)
		case len(e) > maxWatchLen:
			return nil, invalidField("watch", "watch %d is %d bytes, at most %d", i+1, len(e), maxWatchLen)
		case !utf8.ValidString(e):
			return nil, invalidField("watch", "watch %d is not UTF-8", i+1)
		}
	}
	return exprs, nil
}

// evalWatches evaluates watch expressions over a stop's variables. The
// variables are the robot's redacted view, and the evaluation is handed
// no secrets (secret() fails), so a watch shows no more than the
// variables panel does: a secret, or anything computed from it, is ***.
func evalWatches(vars json.RawMessage, exprs []string) []wire.DebugWatch {
	env := map[string]any{}
	if len(vars) > 0 {
		if err := json.Unmarshal(vars, &env); err != nil {
			env = map[string]any{}
		}
	}
	out := make([]wire.DebugWatch, 0, len(exprs))
	for _, e := range exprs {
		out = append(out, evalWatch(e, env))
	}
	return out
}

// evalWatch evaluates one watch. Its error is one short line for the
// person debugging (executor.ExplainExpressionError), not Go's text.
func evalWatch(expression string, env map[string]any) wire.DebugWatch {
	w := wire.DebugWatch{Expression: expression}
	v, err := executor.Evaluate(expression, env)
	if err != nil {
		w.Error = executor.ExplainExpressionError(err)
		return w
	}
	value, err := json.Marshal(v)
	var unsupported *json.UnsupportedValueError
	switch {
	case errors.As(err, &unsupported):
		w.Error = fmt.Sprintf("the value is %s, which a watch cannot show", unsupported.Str)
	case err != nil:
		w.Error = "the value cannot be shown as JSON"
	case len(value) > maxWatchValueSize:
		w.Error = fmt.Sprintf("the value takes %d bytes, more than the %d a watch shows", len(value), maxWatchValueSize)
	default:
		w.Value = value
	}
	return w
}
