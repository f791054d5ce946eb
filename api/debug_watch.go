package api

import (
	"encoding/json"
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
		w := wire.DebugWatch{Expression: e}
		v, err := executor.Evaluate(e, env)
		if err == nil {
			w.Value, err = json.Marshal(v)
		}
		switch {
		case err != nil:
			w.Value, w.Error = nil, err.Error()
		case len(w.Value) > maxWatchValueSize:
			w.Value, w.Error = nil, fmt.Sprintf("the value takes %d bytes, more than the %d a watch shows", len(w.Value), maxWatchValueSize)
		}
		out = append(out, w)
	}
	return out
}
