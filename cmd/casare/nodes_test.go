package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/casare/casare/executor"
)

func TestNodesCommand(t *testing.T) {
	out, _, code := execCasare(t.Context(), t, "", "nodes")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, nt := range executor.NodeTypes() {
		if !strings.Contains(out, "\n"+nt.Name+" ("+nt.Category+")\n") && !strings.HasPrefix(out, nt.Name+" (") {
			t.Errorf("type %s missing from:\n%s", nt.Name, out)
		}
	}

	out, _, code = execCasare(t.Context(), t, "", "nodes", "http_request")
	for _, want := range []string{
		"http_request (network)",
		"ports: next (no port), error",
		"url                   string          required",
		"method                string          default GET",
		"oauth2_token_var      variable        optional",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d: output lacks %q:\n%s", code, want, out)
		}
	}

	out, _, code = execCasare(t.Context(), t, "", "nodes", "-o", "json")
	var types []executor.NodeType
	if err := json.Unmarshal([]byte(out), &types); err != nil || code != 0 || len(types) != len(executor.NodeTypes()) {
		t.Errorf("exit %d, %d types, %v", code, len(types), err)
	}

	_, errOut, code := execCasare(t.Context(), t, "", "nodes", "teleport")
	if code != 1 || !strings.Contains(errOut, `unknown node type "teleport"`) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// casare nodes says what timeout and retry take and which variables an
// error port sets, for one type as for the whole list.
func TestNodesDocumentsTimeoutRetryAndErrorVariables(t *testing.T) {
	for _, args := range [][]string{{"nodes"}, {"nodes", "shell"}} {
		out, _, code := execCasare(t.Context(), t, "", args...)
		for _, want := range []string{
			"every node, beside config:",
			`timeout  duration          optional  limits one attempt of the node, as a Go duration such as "30s"`,
			`retry    number or object  optional  retries a failing node`,
			`a number of retries such as 3, or an object {"max": 3, "backoff": "1s", "max_backoff": "1m"}`,
			"    error       the failure's message",
			"    error_node  the id of the node that failed",
		} {
			if code != 0 || !strings.Contains(out, want) {
				t.Errorf("casare %s (exit %d) lacks %q:\n%s", strings.Join(args, " "), code, want, out)
			}
		}
	}
}
