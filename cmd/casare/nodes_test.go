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
