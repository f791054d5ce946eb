package executor

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Secrets come from the cluster's vault. A workflow names each one with
// secret("NAME"), a string literal, so that the cluster knows when the
// workflow is saved which secrets it needs (SecretRefs) and hands a run
// only those (RunOptions.Secrets). Everything a run lets out — events,
// checkpoints, the result, the debugger's view — goes through the run's
// redactor first (redact.go).

// secretFunc is the name workflows call.
const secretFunc = "secret"

// SecretRefs returns the names of the secrets a workflow graph references,
// sorted and without repeats. A secret() whose argument is not one string
// literal is an error naming the node and field.
func SecretRefs(graph []byte) ([]string, error) {
	var w struct {
		Nodes []Node `json:"nodes"`
	}
	if err := json.Unmarshal(graph, &w); err != nil {
		return nil, fmt.Errorf("find secrets: %w", err)
	}
	var names []string
	for _, n := range w.Nodes {
		for field, v := range n.Config {
			found, err := secretRefsIn(v)
			if err != nil {
				return nil, fmt.Errorf("node %s: config.%s: %w", n.ID, field, err)
			}
			names = append(names, found...)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// SecretVariables returns a graph's top-level secret_variables.
func SecretVariables(graph []byte) []string {
	var w struct {
		SecretVariables []string `json:"secret_variables"`
	}
	if json.Unmarshal(graph, &w) != nil {
		return nil
	}
	return w.SecretVariables
}

// secretRefsIn walks a config value: strings, and maps and lists of them
// (inline subworkflows included).
func secretRefsIn(v any) ([]string, error) {
	switch x := v.(type) {
	case string:
		return secretRefsInString(x)
	case map[string]any:
		var out []string
		for k, e := range x {
			found, err := secretRefsIn(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, found...)
		}
		return out, nil
	case []any:
		var out []string
		for i, e := range x {
			found, err := secretRefsIn(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out = append(out, found...)
		}
		return out, nil
	}
	return nil, nil
}

// secretRefsInString finds secret() calls in a template, or in a bare
// condition (if, while) when the string parses as an expression.
func secretRefsInString(s string) ([]string, error) {
	if !strings.Contains(s, secretFunc) {
		return nil, nil
	}
	var sources []string
	if hasTemplate(s) {
		segs, err := splitTemplate(s)
		if err != nil {
			return nil, nil // validation reports the template itself
		}
		for _, seg := range segs {
			if seg.isExpr {
				sources = append(sources, seg.text)
			}
		}
	} else {
		sources = []string{s}
	}
	var out []string
	for _, src := range sources {
		tree, err := parser.Parse(src)
		if err != nil {
			continue // plain text, or an expression validation rejects
		}
		v := &secretVisitor{}
		ast.Walk(&tree.Node, v)
		if v.err != nil {
			return nil, v.err
		}
		out = append(out, v.names...)
	}
	return out, nil
}

type secretVisitor struct {
	names []string
	err   error
}

func (v *secretVisitor) Visit(node *ast.Node) {
	call, ok := (*node).(*ast.CallNode)
	if !ok {
		return
	}
	id, ok := call.Callee.(*ast.IdentifierNode)
	if !ok || id.Value != secretFunc {
		return
	}
	if len(call.Arguments) != 1 {
		v.err = fmt.Errorf("secret() takes one argument, the secret's name as a string literal")
		return
	}
	lit, ok := call.Arguments[0].(*ast.StringNode)
	if !ok || lit.Value == "" {
		v.err = fmt.Errorf("secret() takes the secret's name as a string literal, such as secret(\"API_PASSWORD\"), so the cluster knows which secrets the workflow needs")
		return
	}
	v.names = append(v.names, lit.Value)
}

// secretArgCheck is the signature expr checks calls to secret() against.
var secretArgCheck = new(func(string) string)

// lookupSecret is secret() at run time: the value handed to this run.
func lookupSecret(b *budget, args []any) (any, error) {
	name, _ := args[0].(string)
	v, ok := b.secrets[name]
	if !ok {
		return nil, &kindError{kind: FailureBusiness, err: &SecretNotHandedError{Name: name}}
	}
	return v, nil
}

// SecretNotHandedError is secret("NAME") asking for a secret that the run
// was not handed (a debugger's watch is handed none).
type SecretNotHandedError struct{ Name string }

func (e *SecretNotHandedError) Error() string {
	return fmt.Sprintf("secret %q was not handed to this run: a workflow gets the secrets it names as a literal secret(\"NAME\") when it is saved in a cluster", e.Name)
}

// secretProblems reports secret() calls whose argument is not a literal.
func secretProblems(w *Workflow) []Problem {
	var out []Problem
	for _, n := range w.Nodes {
		for field, v := range n.Config {
			if _, err := secretRefsIn(v); err != nil {
				out = append(out, Problem{NodeID: n.ID, Field: "config." + field, Message: err.Error()})
			}
		}
	}
	return out
}
