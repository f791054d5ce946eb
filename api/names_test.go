package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/casare/casare/api/apitest"
)

// graphWithNodeID is the hello workflow with its end node renamed; id is
// spliced in raw, so it may carry JSON escapes or bytes that are not
// UTF-8.
func graphWithNodeID(id string) string {
	return `{"name":"hello","nodes":[{"id":"start","type":"start"},{"id":"` + id +
		`","type":"end"}],"connections":[{"from":"start","to":"` + id + `"}]}`
}

// Identifiers with NUL, control characters, bidirectional overrides or
// bytes that are not UTF-8 are refused with a 400 that names the field,
// and nothing is stored.
func TestNamesWithForbiddenCharactersAreRefused(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := newWorkflow(t, node)
	create := func(name string) string {
		return `{"workflow_name":"` + name + `","workflow_json":` + helloWorkflow + `,"trigger_type":"none"}`
	}
	createGraph := func(id string) string {
		return `{"workflow_name":"ok","workflow_json":` + graphWithNodeID(id) + `,"trigger_type":"none"}`
	}
	job := func(field, value string) string {
		return fmt.Sprintf(`{"workflow_id":%q,%q:%s}`, wf, field, value)
	}
	cases := []struct {
		name, path, body, field string
	}{
		{"NUL in workflow name", "/workflows", create(`bad\u0000name`), "workflow_name"},
		{"escape sequence in workflow name", "/workflows", create(`\u001b[31mred`), "workflow_name"},
		{"right-to-left override in workflow name", "/workflows", create("invoice\u202egpj.exe"), "workflow_name"},
		{"invalid UTF-8 in workflow name", "/workflows", create("bad\xffname"), "workflow_name"},
		{"NUL in node id", "/workflows", createGraph(`end\u0000`), "workflow_json.nodes[1].id"},
		{"bidi isolate in node id", "/workflows", createGraph("end\u2066"), "workflow_json.nodes[1].id"},
		{"escape in node name", "/workflows", `{"workflow_name":"ok","workflow_json":{"name":"w","nodes":[{"id":"start","type":"start","name":"\u001b[8m"}],"connections":[]}}`, "workflow_json.nodes[0].name"},
		{"invalid UTF-8 in node id", "/workflows", createGraph("end\xc3"), "workflow_json.nodes[1].id"},
		{"control character in workflow tag", "/workflows", `{"workflow_name":"ok","workflow_json":` + helloWorkflow + `,"tags":["a","b\n"]}`, "tags[1]"},
		{"control character in robot tag", "/jobs", job("robot_tags", `["sap\u009b"]`), "robot_tags[0]"},
		{"bidi mark in pinned robot", "/jobs", job("pinned_robot", `"robot\u200f"`), "pinned_robot"},
		{"escape in unique key", "/jobs", job("unique_key", `"k\u001b"`), "unique_key"},
		{"invalid UTF-8 in unique key", "/jobs", job("unique_key", "\"k\xfe\""), "unique_key"},
		{"NUL in robot token name", "/robots/tokens", `{"name":"r\u0000"}`, "name"},
	}
	before := replicatedState(t, node.Store)
	for _, c := range cases {
		resp := postJSON(t, node.URL+"/api/v1"+c.path, c.body)
		if resp.status != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.name, resp.status, resp.body)
			continue
		}
		e := resp.apiError(t)
		var details struct{ Field string }
		json.Unmarshal(e.Details, &details)
		if details.Field != c.field || !strings.HasPrefix(e.Message, c.field+": ") {
			t.Errorf("%s: error names field %q: %s", c.name, details.Field, e.Message)
		}
	}
	if after := replicatedState(t, node.Store); after != before {
		t.Errorf("refused requests changed the state:\nbefore %s\nafter  %s", before, after)
	}

	// Letters of any script, emoji and inner spaces stay allowed.
	resp := postJSON(t, node.URL+"/api/v1/workflows", create("Rechnungen — Ölpreis 請求書 ✅"))
	if resp.status != http.StatusCreated {
		t.Errorf("a name in several scripts: %d %s", resp.status, resp.body)
	}
}

// An uploaded workflow file with bytes that are not UTF-8 is refused,
// naming the value inside the file.
func TestUploadWithInvalidUTF8IsRefused(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	contentType, body := multipartBody(t, map[string]string{"trigger_type": "none"}, graphWithNodeID("end\xff"))
	resp := send(t, http.MethodPost, node.URL+"/api/v1/workflows/upload", contentType, body)
	if resp.status != http.StatusBadRequest || !strings.Contains(resp.apiError(t).Message, "file.nodes[1].id: is not valid UTF-8") {
		t.Errorf("upload: %d %s", resp.status, resp.body)
	}
	// The graph's name, which names the workflow when the form does not.
	contentType, body = multipartBody(t, nil, `{"name":"a\u0007b","nodes":[{"id":"start","type":"start"}],"connections":[]}`)
	resp = send(t, http.MethodPost, node.URL+"/api/v1/workflows/upload", contentType, body)
	if resp.status != http.StatusBadRequest || !strings.Contains(resp.apiError(t).Message, `workflow_json.name: must not contain control characters ('\a'`) {
		t.Errorf("upload: %d %s", resp.status, resp.body)
	}
}
