package executor

import (
	"strings"
	"testing"
)

// retry takes a bare number as short for {"max": N}; both forms decode
// to the same policy, and wrong forms say what retry takes.
func TestRetryShorthandAndErrors(t *testing.T) {
	node := func(retry string) string {
		return `{"name":"w","nodes":[{"id":"start","type":"start","retry":` + retry + `}],"connections":[]}`
	}
	for _, src := range []string{`3`, `{"max":3}`} {
		w, err := Parse([]byte(node(src)))
		if err != nil {
			t.Fatalf("retry %s: %v", src, err)
		}
		if r := w.Nodes[0].Retry; r == nil || r.Max != 3 || r.Backoff != "" {
			t.Errorf("retry %s decoded as %+v", src, r)
		}
	}
	if w, err := Parse([]byte(node(`{"max":2,"backoff":"2s","max_backoff":"1m"}`))); err != nil ||
		*w.Nodes[0].Retry != (Retry{Max: 2, Backoff: "2s", MaxBackoff: "1m"}) {
		t.Errorf("object form: %+v, %v", w, err)
	}
	for _, bad := range []string{`2.5`, `"3"`, `true`, `{"maxx":3}`, `{"max":"3"}`} {
		_, err := Parse([]byte(node(bad)))
		if err == nil || !strings.Contains(err.Error(), "retry: ") || !strings.Contains(err.Error(), retryForms) {
			t.Errorf("retry %s: %v", bad, err)
		}
	}
	w, err := ParseAndValidate([]byte(node(`-1`)))
	if err == nil || !strings.Contains(err.Error(), "retry.max") {
		t.Errorf("retry -1 validated: %+v, %v", w, err)
	}

	_, err = Parse([]byte(`{"name":"w","nodes":[{"id":"start","type":"start","timeout":30}],"connections":[]}`))
	if err == nil || !strings.Contains(err.Error(), `timeout takes a duration string such as "30s"`) {
		t.Errorf("timeout 30: %v", err)
	}
}
