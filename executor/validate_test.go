package executor

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name, src, wantErr string
	}{
		{"valid", `{"name": "w", "nodes": [{"id": "start", "type": "start"}], "connections": []}`, ""},
		{"unknown top-level field", `{"name": "w", "nodez": []}`, `line 1, column 15: json: unknown field "nodez"`},
		{"unknown node field", "{\"nodes\": [\n  {\"id\": \"a\", \"typ\": \"start\"}\n]}", `line 2, column 15: json: unknown field "typ"`},
		{"wrong type", "{\"nodes\": [{\"id\": 5}]}", "line 1, column 19: field nodes.id: cannot use a JSON number as string"},
		{"syntax error", "{\"nodes\": [}", "line 1, column 12: invalid character '}'"},
		{"trailing data", `{"name": "w"} {}`, "unexpected data after the workflow object"},
		{"empty", ``, "empty document"},
		{"truncated", `{"name": "w"`, "unexpected end of document"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tc.wantErr)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // the problem lines, in order
	}{
		{
			name: "unknown type, missing and unknown fields",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "x", "type": "frobnicate"},
				{"id": "set", "type": "set_variable", "config": {"nam": "a"}}
			], "connections": [{"from": "start", "to": "x"}, {"from": "x", "to": "set"}]}`,
			want: []string{
				"node x: type: unknown node type \"frobnicate\" (see `casare nodes`)",
				"node set: nam: unknown config field for a set_variable node (see `casare nodes set_variable`)",
				"node set: name: required field is missing",
				"node set: value: required field is missing",
			},
		},
		{
			name: "bad literal values and expressions",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "wait", "type": "delay", "config": {"duration": "soon"}},
				{"id": "check", "type": "if", "config": {"condition": "a >"}},
				{"id": "say", "type": "log", "config": {"message": "{{ 1 + }}", "level": "loud"}},
				{"id": "set", "type": "set_variable", "config": {"name": "not a name", "value": "{{ x"}},
				{"id": "http", "type": "http_request", "config": {"url": "http://127.0.0.1", "headers": {"A": [1]}}, "timeout": "-1s", "retry": {"max": -1, "backoff": "x"}}
			], "connections": [
				{"from": "start", "to": "wait"}, {"from": "wait", "to": "check"},
				{"from": "check", "to": "say", "port": "true"}, {"from": "say", "to": "set"}, {"from": "set", "to": "http"}
			]}`,
			want: []string{
				`node wait: duration: want a duration such as "30s", got "soon"`,
				`node check: condition: expression "a >": unexpected token EOF (1:3)`,
				`node say: message: expression {{ 1 + }}: unexpected token EOF (1:3)`,
				`node say: level: want one of [debug info warn error], got "loud"`,
				`node set: name: want a variable name (letters, digits and _), got "not a name"`,
				`node set: value: unterminated {{: missing }}`,
				`node http: headers: A: want a string, got a list`,
				`node http: timeout: duration "-1s" is negative`,
				`node http: retry.max: must not be negative`,
				`node http: retry.backoff: want a duration such as "30s", got "x"`,
			},
		},
		{
			name: "dangling connections and bad ports",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "a", "type": "log", "config": {"message": "a"}},
				{"id": "b", "type": "end"}
			], "connections": [
				{"from": "start", "to": "a"},
				{"from": "a", "to": "ghost"},
				{"from": "phantom", "to": "b"},
				{"from": "a", "to": "b", "port": "maybe"},
				{"from": "b", "to": "a"},
				{"from": "start", "to": "b", "port": "error"},
				{"from": "a", "to": "start"}
			]}`,
			want: []string{
				`node a: connections[1].to: connection to unknown node "ghost"`,
				`node phantom: connections[2].from: connection from unknown node "phantom"`,
				`node a: connections[3].port: log nodes have no port "maybe" (ports: ["" (the normal exit) error])`,
				`node b: connections[4].port: end nodes have no port "" (ports: none)`,
				`node start: connections[5].port: start nodes have no error port`,
				`node a: connections[6].to: nothing may connect to the start node`,
			},
		},
		{
			name: "several starts and duplicate ids",
			src: `{"nodes": [
				{"id": "s1", "type": "start"}, {"id": "s2", "type": "start"}, {"id": "s1", "type": "end"}, {"type": "end"}
			], "connections": []}`,
			want: []string{
				`node s2: type: several start nodes: "s1" and "s2"`,
				`node s1: id: duplicate node id`,
				`workflow: nodes[3].id: missing node id`,
			},
		},
		{
			name: "no start",
			src:  `{"nodes": [{"id": "e", "type": "end"}], "connections": []}`,
			want: []string{"workflow: nodes: no start node"},
		},
		{
			name: "no nodes",
			src:  `{"name": "empty"}`,
			want: []string{"workflow: nodes: a workflow needs at least a start node"},
		},
		{
			name: "unreachable node and a cycle that is not a loop body",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "a", "type": "log", "config": {"message": "a"}},
				{"id": "b", "type": "log", "config": {"message": "b"}},
				{"id": "island", "type": "log", "config": {"message": "c"}}
			], "connections": [
				{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "a"}
			]}`,
			want: []string{
				"node island: connections: unreachable from the start node",
				`node b: connections: connection to "a" closes a cycle that is not a loop body (repeat work with for_each or while)`,
			},
		},
		{
			name: "loop bodies may cycle back; loops need a body",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "loop", "type": "for_each", "config": {"items": [1], "item_var": "x", "index_var": "x"}},
				{"id": "step", "type": "log", "config": {"message": "{{ x }}"}},
				{"id": "idle", "type": "log", "config": {"message": "done"}}
			], "connections": [
				{"from": "start", "to": "loop"}, {"from": "loop", "to": "step", "port": "body"},
				{"from": "step", "to": "loop"}, {"from": "loop", "to": "idle", "port": "done"}
			]}`,
			want: []string{
				`node loop: index_var: item_var and index_var are both "x"`,
			},
		},
		{
			name: "loops need a body",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "idle", "type": "while", "config": {"condition": "false"}}
			], "connections": [{"from": "start", "to": "idle"}]}`,
			want: []string{"node idle: connections: loop has no body: connect its body port"},
		},
		{
			name: "subworkflow needs exactly one source, inline ones are validated",
			src: `{"nodes": [
				{"id": "start", "type": "start"},
				{"id": "none", "type": "subworkflow"},
				{"id": "bad", "type": "subworkflow", "config": {"workflow": {"nodes": [{"id": "s", "type": "start"}, {"id": "x", "type": "nope"}]}}}
			], "connections": [{"from": "start", "to": "none"}, {"from": "none", "to": "bad"}]}`,
			want: []string{
				"node none: path: set exactly one of path and workflow",
				"node bad: workflow: inline workflow: node x: type: unknown node type \"nope\" (see `casare nodes`)",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Parse([]byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			err = Validate(w)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected problems:\n%v", err)
				}
				return
			}
			var verr *ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("error %v is not a *ValidationError", err)
			}
			got := strings.Split(verr.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestEveryExampleValidates(t *testing.T) {
	for _, src := range []string{resumeWorkflow} {
		parseWorkflow(t, src)
	}
	if err := Validate(linearWorkflow(10)); err != nil {
		t.Fatal(err)
	}
}

func TestRegistrySchemasAreDocumented(t *testing.T) {
	types := NodeTypes()
	if len(types) < 26 {
		t.Errorf("only %d node types", len(types))
	}
	for _, nt := range types {
		if nt.Description == "" || nt.Category == "" {
			t.Errorf("%s: missing description or category", nt.Name)
		}
		for _, f := range nt.Fields {
			if f.Description == "" || f.Type == "" {
				t.Errorf("%s.%s: missing description or type", nt.Name, f.Name)
			}
		}
	}
	// NodeTypes returns copies.
	types[0].Fields = nil
	if again, _ := LookupNodeType(types[0].Name); again.Name == "" {
		t.Error("lookup failed")
	}
}
