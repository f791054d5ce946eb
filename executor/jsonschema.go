package executor

import (
	"strconv"
)

// ConfigSchema returns a JSON Schema (draft 2020-12) of the node type's
// config object, built from the same field list that validation reads, so
// that editors which generate forms from it ask for what Validate
// accepts. Each property carries x-casare-type, the field's FieldType,
// because several types (duration, variable, expression) share the JSON
// type string, and x-template, true when the field also accepts a
// {{ expression }} template in place of its literal value.
func (t NodeType) ConfigSchema() map[string]any {
	props := make(map[string]any, len(t.Fields))
	required := []string{}
	for _, f := range t.Fields {
		props[f.Name] = fieldSchema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	return map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"type":                 "object",
		"properties":           props,
		"required":             required,
		"additionalProperties": false,
	}
}

// fieldSchema is the JSON Schema of one field's literal value.
func fieldSchema(f Field) map[string]any {
	s := map[string]any{
		"description":   f.Description,
		"x-casare-type": string(f.Type),
		"x-template":    f.Type != TypeExpression && f.Type != TypeWorkflow,
	}
	switch f.Type {
	case TypeString:
		s["type"] = "string"
		if f.Required {
			s["minLength"] = 1
		}
	case TypeVariable:
		s["type"] = "string"
		s["pattern"] = identifier.String()
	case TypeInteger:
		s["type"] = "integer"
	case TypeNumber:
		s["type"] = "number"
	case TypeBoolean:
		s["type"] = "boolean"
	case TypeDuration:
		s["type"] = "string"
		s["format"] = "duration"
	case TypeExpression:
		s["type"] = "string"
		s["format"] = "expression"
	case TypeList:
		s["type"] = "array"
	case TypeStringList:
		s["type"] = "array"
		s["items"] = map[string]any{"type": "string"}
	case TypeMap:
		s["type"] = "object"
	case TypeStringMap:
		s["type"] = "object"
		s["additionalProperties"] = map[string]any{"type": "string"}
	case TypeWorkflow:
		s["type"] = "object"
	}
	if len(f.Enum) > 0 {
		s["enum"] = f.Enum
	}
	if f.Default != "" {
		s["default"] = typedDefault(f)
	}
	return s
}

// typedDefault turns a field's default, written as text for people, into
// a JSON value of the field's type.
func typedDefault(f Field) any {
	switch f.Type {
	case TypeInteger:
		if n, err := strconv.ParseInt(f.Default, 10, 64); err == nil {
			return n
		}
	case TypeNumber:
		if n, err := strconv.ParseFloat(f.Default, 64); err == nil {
			return n
		}
	case TypeBoolean:
		if b, err := strconv.ParseBool(f.Default); err == nil {
			return b
		}
	}
	return f.Default
}
