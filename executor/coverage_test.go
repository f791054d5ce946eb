package executor

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEveryNodeTypeIsExercised runs every registered node type in a real
// workflow run and fails for a type that no workflow here started, so a
// new type must come with a run of it. Each workflow must end as it
// should (the fail node's by failing), which means every node in it did
// its work; the tests beside each type check what that work was.
func TestEveryNodeTypeIsExercised(t *testing.T) {
	requireChromium(t)
	e, _ := testEngine(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok": true}`))
	}))
	t.Cleanup(api.Close)
	auth := newTokenServer(t)
	site := formServer(t)
	oauth := func(kv ...any) map[string]any {
		return cfg(append([]any{"token_url", auth.URL + "/token", "client_id", clientID, "client_secret", clientSecret}, kv...)...)
	}
	inline := map[string]any{"name": "child", "nodes": []any{
		map[string]any{"id": "start", "type": "start"}, map[string]any{"id": "end", "type": "end"},
	}, "connections": []any{map[string]any{"from": "start", "to": "end"}}}

	loops := &Workflow{Name: "loops", Nodes: []Node{
		{ID: "start", Type: "start"},
		{ID: "each", Type: "for_each", Config: cfg("items", []any{1, 2})},
		{ID: "say", Type: "log", Config: cfg("message", "item {{ item }}")},
		{ID: "n", Type: "set_variable", Config: cfg("name", "n", "value", 0)},
		{ID: "again", Type: "while", Config: cfg("condition", "n < 2")},
		{ID: "inc", Type: "set_variable", Config: cfg("name", "n", "value", "{{ n + 1 }}")},
		{ID: "check", Type: "if", Config: cfg("condition", "n == 2")},
		{ID: "end", Type: "end"},
	}, Connections: []Connection{
		{From: "start", To: "each"}, {From: "each", To: "say", Port: "body"}, {From: "each", To: "n", Port: "done"},
		{From: "n", To: "again"}, {From: "again", To: "inc", Port: "body"}, {From: "again", To: "check", Port: "done"},
		{From: "check", To: "end", Port: "true"},
	}}
	runs := []struct {
		name  string
		w     *Workflow
		fails string // the run's error when it must fail
	}{
		{"loops and branches", loops, ""},
		{"data, files, shell, HTTP, subworkflow", chain(
			Node{ID: "wait", Type: "delay", Config: cfg("duration", "1ms")},
			Node{ID: "parse", Type: "json_parse", Config: cfg("text", `{"a": 1}`, "output_var", "doc")},
			Node{ID: "write", Type: "file_write", Config: cfg("path", "out.txt", "content", "x")},
			Node{ID: "read", Type: "file_read", Config: cfg("path", "out.txt", "output_var", "text")},
			Node{ID: "sh", Type: "shell", Config: cfg("command", "true")},
			Node{ID: "get", Type: "http_request", Config: cfg("url", api.URL, "output_var", "resp")},
			Node{ID: "child", Type: "subworkflow", Config: cfg("workflow", inline)},
			Node{ID: "end", Type: "end"},
		), ""},
		{"OAuth 2.0", chain(
			Node{ID: "cc", Type: "oauth2_client_credentials", Config: oauth("output_var", "cc")},
			Node{ID: "code", Type: "oauth2_auth_code", Config: oauth("code", authCode, "redirect_url", redirectURL, "code_verifier", codeVerifier, "output_var", "tok")},
			Node{ID: "refresh", Type: "oauth2_refresh", Config: oauth("token_var", "tok")},
		), ""},
		{"browser", chain(
			Node{ID: "open", Type: "browser_open"},
			Node{ID: "nav", Type: "browser_navigate", Config: cfg("url", site.URL+"/form")},
			Node{ID: "ready", Type: "browser_wait_for", Config: cfg("selector", "#name", "timeout", "10s")},
			Node{ID: "type", Type: "browser_type", Config: cfg("selector", "#name", "text", "Ada")},
			Node{ID: "click", Type: "browser_click", Config: cfg("selector", "#greet")},
			Node{ID: "read", Type: "browser_extract_text", Config: cfg("selector", "#result", "output_var", "greeting")},
			Node{ID: "shot", Type: "browser_screenshot", Config: cfg("path", "page.png")},
			Node{ID: "close", Type: "browser_close"},
		), ""},
		{"fail", chain(Node{ID: "stop", Type: "fail", Config: cfg("message", "stopped on purpose")}), "stopped on purpose"},
	}
	started := map[string]bool{}
	for _, run := range runs {
		if err := Validate(run.w); err != nil {
			t.Fatalf("%s: invalid test workflow:\n%v", run.name, err)
		}
		var rec recorder
		res := e.Run(background(t), run.w, rec.options(RunOptions{}))
		switch {
		case run.fails == "" && res.State != StateSucceeded:
			t.Errorf("%s: run %s: %s", run.name, res.State, res.Error)
		case run.fails != "" && (res.State != StateFailed || !strings.Contains(res.Error, run.fails)):
			t.Errorf("%s: run %s (%q), want it to fail with %q", run.name, res.State, res.Error, run.fails)
		}
		rec.mu.Lock()
		for _, ev := range rec.events {
			if ev.Kind == EventNodeStarted {
				started[ev.NodeType] = true
			}
		}
		rec.mu.Unlock()
	}
	for _, nt := range NodeTypes() {
		if !started[nt.Name] {
			t.Errorf("no run here started a %s node", nt.Name)
		}
	}
}
