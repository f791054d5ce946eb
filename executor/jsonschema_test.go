package executor

import "testing"

// TestConfigSchemaDefaultsAreValidLiterals: every default the schema
// gives a form to prefill is a value validation accepts for its field.
func TestConfigSchemaDefaultsAreValidLiterals(t *testing.T) {
	for _, nt := range NodeTypes() {
		props := nt.ConfigSchema()["properties"].(map[string]any)
		for _, f := range nt.Fields {
			p := props[f.Name].(map[string]any)
			if p["x-casare-type"] != string(f.Type) {
				t.Errorf("%s.%s: x-casare-type %v", nt.Name, f.Name, p["x-casare-type"])
			}
			d, ok := p["default"]
			if !ok {
				continue
			}
			if n, isInt := d.(int64); isInt {
				d = float64(n) // as JSON decoding would give it
			}
			if err := checkLiteral(f, d); err != nil {
				t.Errorf("%s.%s: default %v: %v", nt.Name, f.Name, d, err)
			}
		}
	}
}
