package executor

import (
	"testing"
)

func TestLoopNodes(t *testing.T) {
	e, _ := testEngine(t)
	runNodeCases(t, e, []nodeCase{
		{
			name: "for_each sums items and flows back implicitly",
			nodes: []Node{
				{ID: "loop", Type: "for_each", Config: cfg("items", "{{ prices }}", "item_var", "price", "index_var", "i")},
				{ID: "add", Type: "set_variable", Config: cfg("name", "total", "value", "{{ total + price }}")},
				{ID: "seen", Type: "set_variable", Config: cfg("name", "seen", "value", "{{ seen + string(i) }}")},
				{ID: "after", Type: "set_variable", Config: cfg("name", "after", "value", "{{ total }}")},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "add", Port: "body"},
				{From: "add", To: "seen"},
				{From: "loop", To: "after", Port: "done"},
			},
			vars: map[string]any{"prices": []any{1.5, 2.5, 6.0}, "total": 0, "seen": ""},
			want: map[string]any{"total": 10, "seen": "012", "after": 10},
		},
		{
			name: "for_each over an empty list goes straight to done",
			nodes: []Node{
				{ID: "loop", Type: "for_each", Config: cfg("items", []any{})},
				{ID: "body", Type: "set_variable", Config: cfg("name", "ran", "value", true)},
				{ID: "after", Type: "set_variable", Config: cfg("name", "after", "value", true)},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "body", Port: "body"},
				{From: "loop", To: "after", Port: "done"},
			},
			want: map[string]any{"after": true},
			check: func(t *testing.T, res Result) {
				if _, ran := res.Variables["ran"]; ran {
					t.Error("body ran for an empty list")
				}
			},
		},
		{
			name: "nested loops with an explicit connection back to the outer loop",
			nodes: []Node{
				{ID: "rows", Type: "for_each", Config: cfg("items", "{{ matrix }}", "item_var", "row", "index_var", "r")},
				{ID: "cols", Type: "for_each", Config: cfg("items", "{{ row }}", "item_var", "cell", "index_var", "c")},
				{ID: "add", Type: "set_variable", Config: cfg("name", "cells", "value", "{{ concat(cells, [string(r) + ',' + string(c) + '=' + string(cell)]) }}")},
				{ID: "row_done", Type: "set_variable", Config: cfg("name", "rows_done", "value", "{{ rows_done + 1 }}")},
			},
			conns: []Connection{
				{From: "start", To: "rows"},
				{From: "rows", To: "cols", Port: "body"},
				{From: "cols", To: "add", Port: "body"},
				{From: "cols", To: "row_done", Port: "done"},
				{From: "row_done", To: "rows"},
			},
			vars: map[string]any{"matrix": []any{[]any{1, 2}, []any{}, []any{3}}, "cells": []any{}, "rows_done": 0},
			want: map[string]any{"cells": []any{"0,0=1", "0,1=2", "2,0=3"}, "rows_done": 3},
		},
		{
			name: "an if branch without a connection continues the loop",
			nodes: []Node{
				{ID: "loop", Type: "for_each", Config: cfg("items", "{{ 1..6 }}")},
				{ID: "even", Type: "if", Config: cfg("condition", "item % 2 == 0")},
				{ID: "keep", Type: "set_variable", Config: cfg("name", "evens", "value", "{{ concat(evens, [item]) }}")},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "even", Port: "body"},
				{From: "even", To: "keep", Port: "true"},
			},
			vars: map[string]any{"evens": []any{}},
			want: map[string]any{"evens": []any{2, 4, 6}},
		},
		{
			name: "end inside a loop ends the run",
			nodes: []Node{
				{ID: "loop", Type: "for_each", Config: cfg("items", []any{1.0, 2.0, 3.0})},
				{ID: "count", Type: "set_variable", Config: cfg("name", "n", "value", "{{ item }}")},
				{ID: "stop", Type: "if", Config: cfg("condition", "item == 2")},
				{ID: "end", Type: "end"},
				{ID: "after", Type: "set_variable", Config: cfg("name", "after", "value", true)},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "count", Port: "body"},
				{From: "count", To: "stop"},
				{From: "stop", To: "end", Port: "true"},
				{From: "loop", To: "after", Port: "done"},
			},
			want: map[string]any{"n": 2},
			check: func(t *testing.T, res Result) {
				if _, ran := res.Variables["after"]; ran {
					t.Error("the loop's done path ran after end")
				}
			},
		},
		{
			name: "a caught failure in the body continues with the next item",
			nodes: []Node{
				{ID: "loop", Type: "for_each", Config: cfg("items", []any{"1", "x", "3"})},
				{ID: "parse", Type: "json_parse", Config: cfg("text", "{{ item }}", "output_var", "n")},
				{ID: "add", Type: "set_variable", Config: cfg("name", "sum", "value", "{{ sum + n }}")},
				{ID: "skip", Type: "set_variable", Config: cfg("name", "skipped", "value", "{{ concat(skipped, [item]) }}")},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "parse", Port: "body"},
				{From: "parse", To: "add"},
				{From: "parse", To: "skip", Port: "error"},
			},
			vars: map[string]any{"sum": 0, "skipped": []any{}},
			want: map[string]any{"sum": 4, "skipped": []any{"x"}, "error_node": "parse"},
		},
		{
			name:      "for_each over a non-list",
			nodes:     []Node{{ID: "loop", Type: "for_each", Config: cfg("items", "{{ 'text' }}")}, {ID: "b", Type: "log", Config: cfg("message", "x")}},
			conns:     []Connection{{From: "start", To: "loop"}, {From: "loop", To: "b", Port: "body"}},
			state:     StateFailed,
			errSubstr: "items: want a list, got a string",
		},
		{
			name: "while counts with index_var",
			nodes: []Node{
				{ID: "loop", Type: "while", Config: cfg("condition", "n < 5", "index_var", "i")},
				{ID: "inc", Type: "set_variable", Config: cfg("name", "n", "value", "{{ n + 1 }}")},
				{ID: "trace", Type: "set_variable", Config: cfg("name", "trace", "value", "{{ concat(trace, [i]) }}")},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "inc", Port: "body"},
				{From: "inc", To: "trace"},
			},
			vars: map[string]any{"n": 0, "trace": []any{}},
			want: map[string]any{"n": 5, "trace": []any{0, 1, 2, 3, 4}},
		},
		{
			name: "while stops at max_iterations",
			nodes: []Node{
				{ID: "loop", Type: "while", Config: cfg("condition", "true", "max_iterations", 3)},
				{ID: "inc", Type: "set_variable", Config: cfg("name", "n", "value", "{{ n + 1 }}")},
			},
			conns: []Connection{
				{From: "start", To: "loop"},
				{From: "loop", To: "inc", Port: "body"},
			},
			vars:      map[string]any{"n": 0},
			state:     StateFailed,
			errSubstr: "condition still holds after 3 iterations",
			want:      map[string]any{"n": 3},
		},
	})
}
