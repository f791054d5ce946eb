package executor

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// secretValue has characters JSON escapes, so its escaped form differs.
const secretValue = `s3cr"et\pa55-XYZ`

// leaks reports which forms of secretValue appear in b.
func leaks(b []byte) []string {
	var found []string
	esc, _ := json.Marshal(secretValue)
	for name, form := range map[string]string{
		"raw": secretValue, "base64": base64.StdEncoding.EncodeToString([]byte(secretValue)),
		"json": string(esc[1 : len(esc)-1]),
	} {
		if strings.Contains(string(b), form) {
			found = append(found, name)
		}
	}
	return found
}

func TestSecretRefsNamesLiteralSecretsAndRefusesOthers(t *testing.T) {
	graph := `{"name":"w","nodes":[{"id":"start","type":"start"},
		{"id":"a","type":"log","config":{"message":"{{ secret(\"B\") }} and {{ secret('A') }}"}},
		{"id":"c","type":"if","config":{"condition":"secret(\"C\") == 'x'"}},
		{"id":"d","type":"set_variable","config":{"name":"v","value":{"k":["{{ secret(\"A\") }}"]}}}],"connections":[]}`
	got, err := SecretRefs([]byte(graph))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"A", "B", "C"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("secret refs = %v, want %v", got, want)
	}
	bad := `{"nodes":[{"id":"n1","type":"log","config":{"message":"{{ secret(name) }}"}}]}`
	_, err = SecretRefs([]byte(bad))
	if err == nil || !strings.Contains(err.Error(), "node n1: config.message") || !strings.Contains(err.Error(), "string literal") {
		t.Fatalf("non-literal secret(): err = %v, want one naming node n1, config.message and the literal rule", err)
	}
	w := chain(Node{ID: "n1", Type: "log", Config: cfg("message", "{{ secret(name) }}")})
	if err := Validate(w); err == nil || !strings.Contains(err.Error(), "string literal") {
		t.Fatalf("Validate accepted a non-literal secret(): %v", err)
	}
}

// TestRunHidesSecretsEverywhereItLetsThemOut runs a workflow that sends a
// secret to a server, logs it, stores it in a variable, fails with it in
// the message and has a secret variable: the server gets the value; no
// event, checkpoint, debugger view or result holds it in any form.
func TestRunHidesSecretsEverywhereItLetsThemOut(t *testing.T) {
	var mu sync.Mutex
	var received string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		received = r.Header.Get("X-Password") + "|" + string(b)
		mu.Unlock()
		w.Write([]byte(`{"echo":` + string(mustJSON(t, secretValue)) + `}`))
	}))
	defer srv.Close()

	e, _ := testEngine(t)
	w := chain(
		Node{ID: "call", Type: "http_request", Config: cfg("method", "POST", "url", srv.URL,
			"headers", map[string]any{"X-Password": `{{ secret("PW") }}`},
			"body", map[string]any{"pw": `{{ secret("PW") }}`}, "output_var", "resp")},
		Node{ID: "keep", Type: "set_variable", Config: cfg("name", "copy", "value", `{{ secret("PW") }}`)},
		Node{ID: "b64", Type: "set_variable", Config: cfg("name", "basic", "value", `{{ toBase64(secret("PW")) }}`)},
		Node{ID: "say", Type: "log", Config: cfg("message", `password is {{ secret("PW") }}, param is {{ password }}`)},
		Node{ID: "boom", Type: "end", Config: cfg("status", "failed", "message", `bad {{ secret("PW") }}`)},
	)
	w.SecretVariables = []string{"password"}
	var rec recorder
	var debugSeen []byte
	opts := rec.options(RunOptions{
		Vars:    map[string]any{"password": "param-secret-42"},
		Secrets: map[string]string{"PW": secretValue},
		BeforeNode: func(_ context.Context, _ string, vars map[string]any) error {
			b, _ := json.Marshal(vars)
			debugSeen = append(debugSeen, b...)
			return nil
		},
	})
	res := e.Run(context.Background(), w, opts)
	if res.State != StateFailed || !strings.Contains(res.Error, "bad ***") {
		t.Fatalf("run ended %s with %q, want failed with the message redacted", res.State, res.Error)
	}
	mu.Lock()
	want := secretValue + `|{"pw":` + string(mustJSON(t, secretValue)) + `}`
	if received != want {
		t.Fatalf("server received %q, want %q", received, want)
	}
	mu.Unlock()
	out := map[string]any{"events": rec.events, "checkpoints": rec.checkpoints, "result": res, "debug": string(debugSeen)}
	b, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	if l := leaks(b); len(l) > 0 {
		t.Fatalf("secret value leaked (%v) in:\n%s", l, b)
	}
	if strings.Contains(string(b), "param-secret-42") {
		t.Fatalf("secret variable leaked in:\n%s", b)
	}
	if got := strings.Join(rec.logs(), "\n"); !strings.Contains(got, "password is ***, param is ***") {
		t.Fatalf("log lines = %q, want the values as ***", got)
	}
}

func TestRunFailsClearlyWithoutTheSecret(t *testing.T) {
	e, _ := testEngine(t)
	w := chain(Node{ID: "say", Type: "log", Config: cfg("message", `{{ secret("GONE") }}`)})
	res := e.Run(context.Background(), w, RunOptions{})
	if res.State != StateFailed || !strings.Contains(res.Error, `secret "GONE" was not handed to this run`) {
		t.Fatalf("run ended %s with %q, want a failure naming the secret", res.State, res.Error)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A secret variable passed to a subworkflow under another name stays
// hidden there: in the debugger's view, events and the result.
func TestSecretVariablePassedToASubworkflowStaysHidden(t *testing.T) {
	e, _ := testEngine(t)
	child := map[string]any{
		"name": "child",
		"nodes": []any{
			map[string]any{"id": "start", "type": "start"},
			map[string]any{"id": "say", "type": "log", "config": map[string]any{"message": "child has {{ pw }}"}},
		},
		"connections": []any{map[string]any{"from": "start", "to": "say"}},
	}
	w := chain(Node{ID: "call", Type: "subworkflow", Config: cfg("workflow", child, "params", map[string]any{"pw": "{{ password }}"}, "output_var", "out")})
	w.SecretVariables = []string{"password"}
	var rec recorder
	var debugSeen []byte
	res := e.Run(context.Background(), w, rec.options(RunOptions{
		Vars: map[string]any{"password": "param-secret-42"},
		BeforeNode: func(_ context.Context, id string, vars map[string]any) error {
			b, _ := json.Marshal(map[string]any{id: vars})
			debugSeen = append(debugSeen, b...)
			return nil
		},
	}))
	if res.State != StateSucceeded {
		t.Fatalf("run ended %s: %s", res.State, res.Error)
	}
	if !strings.Contains(string(debugSeen), `"call/say"`) {
		t.Fatalf("the debugger never stopped inside the subworkflow: %s", debugSeen)
	}
	b, err := json.Marshal(map[string]any{"events": rec.events, "result": res, "debug": string(debugSeen)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "param-secret-42") {
		t.Fatalf("secret variable leaked from the subworkflow in:\n%s", b)
	}
}
