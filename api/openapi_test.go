package api

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesRoutes checks that the document describes every
// registered route and nothing else, and that its references resolve.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi version %q", doc.OpenAPI)
	}
	param := regexp.MustCompile(`:([a-z_]+)`)
	var registered []string
	// The document also describes the internal endpoints, which nodes
	// serve on their cluster port (mutual TLS) rather than on the API's.
	srv := New(Config{})
	for _, r := range append(srv.engine.Routes(), srv.internal.Routes()...) {
		registered = append(registered, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range registered {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(registered, d) {
			t.Errorf("openapi.json describes %s, which is not a route", d)
		}
	}

	refs := regexp.MustCompile(`"\$ref": "#/([^"]+)"`).FindAllStringSubmatch(string(openAPIDocument), -1)
	var whole map[string]any
	json.Unmarshal(openAPIDocument, &whole)
	for _, ref := range refs {
		var node any = whole
		for _, part := range strings.Split(ref[1], "/") {
			m, ok := node.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("$ref #/%s does not resolve", ref[1])
				break
			}
			node = m[part]
		}
	}
}

// TestOpenAPIDeclaresSecurity checks every operation declares how it is
// authenticated, and that the role it documents is the one the server
// enforces.
func TestOpenAPIDeclaresSecurity(t *testing.T) {
	var doc struct {
		Paths map[string]map[string]struct {
			Security *[]map[string][]string `json:"security"`
			Role     string                 `json:"x-casare-role"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`\{([a-z_]+)\}`)
	for path, ops := range doc.Paths {
		for method, op := range ops {
			name := strings.ToUpper(method) + " " + path
			if op.Security == nil {
				t.Errorf("%s declares no security", name)
				continue
			}
			if !strings.HasPrefix(path, "/api/v1/") {
				continue
			}
			need, guarded := RequiredRole(strings.ToUpper(method), param.ReplaceAllString(path, ":$1"))
			switch {
			case !guarded && len(*op.Security) != 0:
				t.Errorf("%s is open but declares %v", name, *op.Security)
			case guarded && (len(*op.Security) == 0 || op.Role != string(need)):
				t.Errorf("%s needs role %s; the document says %q with %v", name, need, op.Role, *op.Security)
			}
		}
	}
}
