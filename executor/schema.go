package executor

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"
)

// FieldType names the kind of value a config field takes.
type FieldType string

// Field types. Every type except expression and workflow may also be given
// as a template string that produces a value of that type at run time.
const (
	TypeString     FieldType = "string"
	TypeVariable   FieldType = "variable" // a variable name: letters, digits, _
	TypeInteger    FieldType = "integer"
	TypeNumber     FieldType = "number"
	TypeBoolean    FieldType = "boolean"
	TypeDuration   FieldType = "duration" // a Go duration such as "1m30s"
	TypeList       FieldType = "list"
	TypeStringList FieldType = "list of strings"
	TypeMap        FieldType = "map"
	TypeStringMap  FieldType = "map of strings"
	TypeAny        FieldType = "any"
	TypeExpression FieldType = "expression" // a bare expr expression, not templated
	TypeWorkflow   FieldType = "workflow"   // an inline workflow object, not templated
)

// Field describes one config field of a node type.
type Field struct {
	Name        string    `json:"name"`
	Type        FieldType `json:"type"`
	Required    bool      `json:"required"`
	Default     string    `json:"default,omitempty"`
	Enum        []string  `json:"enum,omitempty"`
	Description string    `json:"description"`
}

// NodeType describes a node type: what it does, its config fields and its
// output ports. Validation and `casare nodes` both read this description.
type NodeType struct {
	Name        string  `json:"name"`
	Category    string  `json:"category"`
	Description string  `json:"description"`
	Fields      []Field `json:"fields"`
	// Ports lists the output ports; "" is the normal exit.
	Ports []string `json:"ports"`
	// ErrorPort says whether an error connection may catch the node's
	// failure.
	ErrorPort bool `json:"error_port"`
}

// Field returns the field with the given name.
func (t NodeType) Field(name string) (Field, bool) {
	for _, f := range t.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// execFunc runs one attempt of a node and returns the port to leave by.
type execFunc func(ctx context.Context, c call) (port string, err error)

// nodeKind is a registry entry: the public description plus behaviour.
type nodeKind struct {
	NodeType
	exec execFunc
	// effects marks nodes that change the world outside the run; a
	// checkpoint always follows them, so that a resumed run repeats as
	// few side effects as possible.
	effects bool
	// loop marks for_each and while, whose body port may lead back to
	// them.
	loop bool
	// check validates what the field schema cannot express.
	check func(n *Node) []Problem
}

// kinds is the node type registry and kindOrder its display order. They are
// built once, in init because node implementations such as subworkflow
// refer back to the registry, and never modified.
var (
	kinds     map[string]*nodeKind
	kindOrder []string
)

func init() { kinds, kindOrder = buildRegistry() }

func buildRegistry() (map[string]*nodeKind, []string) {
	var all []*nodeKind
	all = append(all, controlKinds()...)
	all = append(all, loopKinds()...)
	all = append(all, dataKinds()...)
	all = append(all, fileKinds()...)
	all = append(all, shellKinds()...)
	all = append(all, httpKinds()...)
	all = append(all, oauthKinds()...)
	all = append(all, subworkflowKinds()...)
	all = append(all, browserKinds()...)
	byName := make(map[string]*nodeKind, len(all))
	order := make([]string, 0, len(all))
	for _, k := range all {
		if _, dup := byName[k.Name]; dup {
			panic("executor: node type registered twice: " + k.Name)
		}
		byName[k.Name] = k
		order = append(order, k.Name)
	}
	return byName, order
}

// NodeTypes returns every node type in display order. The result is a copy
// that the caller may modify.
func NodeTypes() []NodeType {
	out := make([]NodeType, 0, len(kindOrder))
	for _, name := range kindOrder {
		out = append(out, cloneNodeType(kinds[name].NodeType))
	}
	return out
}

// LookupNodeType returns the node type with the given name.
func LookupNodeType(name string) (NodeType, bool) {
	k, ok := kinds[name]
	if !ok {
		return NodeType{}, false
	}
	return cloneNodeType(k.NodeType), true
}

func cloneNodeType(t NodeType) NodeType {
	t.Fields = slices.Clone(t.Fields)
	for i := range t.Fields {
		t.Fields[i].Enum = slices.Clone(t.Fields[i].Enum)
	}
	t.Ports = slices.Clone(t.Ports)
	return t
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// checkLiteral checks a config value that has no template against the
// field's type, so that mistakes surface at validation and not mid-run.
func checkLiteral(f Field, v any) error {
	switch f.Type {
	case TypeString:
		switch v.(type) {
		case string, float64, int, int64, bool:
		default:
			return fmt.Errorf("want a string, got %s", jsonKind(v))
		}
		if s, ok := v.(string); ok && s == "" && f.Required {
			return fmt.Errorf("must not be empty")
		}
	case TypeVariable:
		s, ok := v.(string)
		if !ok || !identifier.MatchString(s) {
			return fmt.Errorf("want a variable name (letters, digits and _), got %s", describe(v))
		}
	case TypeInteger:
		n, ok := number(v)
		if !ok || n != math.Trunc(n) {
			return fmt.Errorf("want an integer, got %s", describe(v))
		}
	case TypeNumber:
		if _, ok := number(v); !ok {
			return fmt.Errorf("want a number, got %s", jsonKind(v))
		}
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("want true or false, got %s", jsonKind(v))
		}
	case TypeDuration:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a duration such as \"30s\", got %s", jsonKind(v))
		}
		if _, err := parseDuration(s); err != nil {
			return err
		}
	case TypeList, TypeStringList:
		l, ok := v.([]any)
		if !ok {
			return fmt.Errorf("want a list, got %s", jsonKind(v))
		}
		if f.Type == TypeStringList {
			for i, x := range l {
				if _, ok := x.(map[string]any); ok {
					return fmt.Errorf("[%d]: want a string, got an object", i)
				}
				if _, ok := x.([]any); ok {
					return fmt.Errorf("[%d]: want a string, got a list", i)
				}
			}
		}
	case TypeMap, TypeStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("want an object, got %s", jsonKind(v))
		}
		if f.Type == TypeStringMap {
			for k, x := range m {
				switch x.(type) {
				case map[string]any, []any:
					return fmt.Errorf("%s: want a string, got %s", k, jsonKind(x))
				}
			}
		}
	}
	if len(f.Enum) > 0 {
		s, _ := v.(string)
		if !slices.Contains(f.Enum, s) {
			return fmt.Errorf("want one of %v, got %s", f.Enum, describe(v))
		}
	}
	return nil
}

// number reads a numeric literal: float64 from JSON, or an integer from a
// workflow built in Go.
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration such as \"30s\", got %q", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// jsonKind names the JSON kind of a decoded value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64, int, int64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("a %T", v)
	}
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case float64:
		return formatFloat(x)
	default:
		return jsonKind(v)
	}
}
