package executor

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// retryForms says what the retry field takes, for error messages and
// `casare nodes`.
const retryForms = `a number of retries such as 3, or an object {"max": 3, "backoff": "1s", "max_backoff": "1m"}`

// UnmarshalJSON reads a node's retry setting. Besides the object form it
// takes a bare whole number, short for {"max": N}: "retry": 3 retries a
// failing node up to three times, four attempts in all, which is what
// people write first.
func (r *Retry) UnmarshalJSON(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] != '{' {
		var n int
		if err := json.Unmarshal(trimmed, &n); err != nil {
			return fmt.Errorf("retry: cannot use %s; want %s", trimmed, retryForms)
		}
		*r = Retry{Max: n}
		return nil
	}
	// A type without this method, so that decoding it does not recurse;
	// unknown fields stay errors, as everywhere in a workflow.
	type retryObject Retry
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	var obj retryObject
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("retry: %v; want %s", err, retryForms)
	}
	*r = Retry(obj)
	return nil
}

// fieldHint says what a field that failed to decode takes, where the
// Go type in the decoder's message would not tell a workflow's author.
func fieldHint(field string) string {
	switch field {
	case "nodes.timeout":
		return `; timeout takes a duration string such as "30s" or "2m"`
	case "nodes.retry.max":
		return "; retry.max takes a whole number of retries"
	case "nodes.retry.backoff", "nodes.retry.max_backoff":
		return `; it takes a duration string such as "1s"`
	}
	return ""
}

// CommonFields are the settings every node takes beside its type's
// config, at the top level of the node object.
func CommonFields() []Field {
	return []Field{
		{Name: "timeout", Type: TypeDuration, Description: `limits one attempt of the node, as a Go duration such as "30s" or "2m"; an attempt that runs longer fails (application failure) and may be retried`},
		{Name: "retry", Type: "number or object", Description: "retries a failing node before its error port or the run sees the failure: " +
			retryForms + `; the wait before retry n is backoff·2^(n-1), at most max_backoff (defaults 1s and 5m). A business failure is neither retried nor caught by the error port`},
	}
}

// ErrorVariables are the variables a failing node sets when its error
// port is connected, by name, with what they hold.
func ErrorVariables() [][2]string {
	return [][2]string{
		{"error", "the failure's message"},
		{"error_node", "the id of the node that failed; inside a subworkflow, prefixed with the subworkflow node's id and a slash (sub/fetch)"},
	}
}
