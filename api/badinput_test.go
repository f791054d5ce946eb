package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// createBody returns a valid POST /api/v1/workflows body with extra
// fields merged in (a nil value deletes the field).
func createBody(t *testing.T, extra map[string]any) string {
	t.Helper()
	body := map[string]any{"workflow_name": "hello", "workflow_json": json.RawMessage(helloWorkflow)}
	for k, v := range extra {
		if v == nil {
			delete(body, k)
			continue
		}
		body[k] = v
	}
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func multipartBody(t *testing.T, fields map[string]string, file string) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if file != "" {
		part, err := w.CreateFormFile("file", "hello.json")
		if err != nil {
			t.Fatal(err)
		}
		part.Write([]byte(file))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

func TestBadInputIsRefusedAndChangesNothing(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	base := node.URL + "/api/v1"

	// A workflow with a queued job, for the cases that need one.
	created := postJSON(t, base+"/workflows", createBody(t, nil))
	if created.status != http.StatusCreated {
		t.Fatalf("create workflow: %d %s", created.status, created.body)
	}
	var wf api.CreateWorkflowResponse
	created.decode(t, &wf)

	upload := func(fields map[string]string, file string) func(t *testing.T) response {
		return func(t *testing.T) response {
			ct, body := multipartBody(t, fields, file)
			return send(t, http.MethodPost, base+"/workflows/upload", ct, body)
		}
	}
	post := func(path, body string, header ...string) func(t *testing.T) response {
		return func(t *testing.T) response { return postJSON(t, base+path, body, header...) }
	}
	getPath := func(path string) func(t *testing.T) response {
		return func(t *testing.T) response { return get(t, base+path) }
	}
	put := func(path, body string) func(t *testing.T) response {
		return func(t *testing.T) response {
			return send(t, http.MethodPut, base+path, "application/json", []byte(body))
		}
	}
	del := func(path string) func(t *testing.T) response {
		return func(t *testing.T) response { return send(t, http.MethodDelete, base+path, "", nil) }
	}
	internal := func(path, body string) func(t *testing.T) response {
		return func(t *testing.T) response { return postJSON(t, node.URL+"/internal/v1"+path, body) }
	}
	schedule := func(extra string) string {
		return fmt.Sprintf(`{"workflow_id":%q,"cron":"*/5 * * * *"%s}`, wf.WorkflowID, extra)
	}
	job := func(extra string) string { return fmt.Sprintf(`{"workflow_id":%q%s}`, wf.WorkflowID, extra) }
	running := runningJob(t, node, wf.WorkflowID)
	jobs1001 := `{"jobs":[` + strings.Repeat(`{"workflow_id":"x"},`, 1000) + `{"workflow_id":"x"}]}`
	// Bodies of empty objects, each far cheaper to send than to decode.
	empties := strings.Repeat(`{},`, 1<<16) + `{}` // one more than the API takes, with the outer object
	emptyNodes := `{"name":"x","nodes":[` + empties + `],"connections":[]}`
	// An upload may be 8 MiB, and may hold as many more (1 per 32 bytes).
	emptyUpload := `{"name":"x","nodes":[` + strings.Repeat(`{},`, 1<<18) + `{}],"connections":[]}`

	cases := []struct {
		name    string
		request func(t *testing.T) response
		status  int
		code    string
		// mention lists what the message must name.
		mention []string
		// reachesStore marks input only the replicated state can refuse;
		// the refusal is a Raft entry, so only the data must not change.
		reachesStore bool
	}{
		{"malformed JSON", post("/workflows", `{"workflow_name": "x", "workflow_json": }`), 400, "invalid", []string{"malformed JSON", "offset 41"}, false},
		{"truncated JSON", post("/workflows", `{"workflow_name": "x",`), 400, "invalid", []string{"offset 22"}, false},
		{"trailing data", post("/workflows", createBody(t, nil)+` {}`), 400, "invalid", []string{"after the JSON value"}, false},
		{"empty body", post("/workflows", ``), 400, "invalid", []string{"empty"}, false},
		{"not an object", post("/workflows", `[1,2]`), 400, "invalid", []string{"object"}, false},
		{"unknown field", post("/workflows", createBody(t, map[string]any{"colour": "red"})), 400, "invalid", []string{`"colour"`}, false},
		{"wrong type", post("/workflows", createBody(t, map[string]any{"priority": "high"})), 400, "invalid", []string{"priority", "integer"}, false},
		{"wrong nested type", post("/workflows", createBody(t, map[string]any{"robot_tags": []int{1}})), 400, "invalid", []string{"robot_tags", "string"}, false},
		{"missing workflow_name", post("/workflows", createBody(t, map[string]any{"workflow_name": nil})), 400, "invalid", []string{"workflow_name"}, false},
		{"missing both", post("/workflows", `{}`), 400, "invalid", []string{"workflow_name", "workflow_json"}, false},
		{"workflow_json not an object", post("/workflows", createBody(t, map[string]any{"workflow_json": "x"})), 400, "invalid", []string{"workflow_json"}, false},
		{"unknown node type", post("/workflows", createBody(t, map[string]any{"workflow_json": json.RawMessage(
			`{"name":"bad","nodes":[{"id":"start","type":"start"},{"id":"x","type":"teleport"}],"connections":[{"from":"start","to":"x"}]}`)})),
			400, "invalid", []string{"workflow_json", "teleport"}, false},
		{"priority 10", post("/workflows", createBody(t, map[string]any{"priority": 10})), 400, "invalid", []string{"priority", "0 and 9"}, false},
		{"bad execution_mode", post("/workflows", createBody(t, map[string]any{"execution_mode": "moon"})), 400, "invalid", []string{"execution_mode", "moon"}, false},
		{"scheduled trigger without cron", post("/workflows", createBody(t, map[string]any{"trigger_type": "scheduled"})), 400, "invalid", []string{"cron", "required"}, false},
		{"scheduled trigger with bad cron", post("/workflows", createBody(t, map[string]any{"trigger_type": "scheduled", "cron": "61 * * * *"})), 400, "invalid", []string{"cron", "61"}, false},
		{"scheduled trigger with unknown timezone", post("/workflows", createBody(t, map[string]any{"trigger_type": "scheduled", "cron": "@daily", "timezone": "Mars/Olympus"})), 400, "invalid", []string{"timezone", "Mars/Olympus"}, false},
		{"cron on a manual trigger", post("/workflows", createBody(t, map[string]any{"cron": "@daily"})), 400, "invalid", []string{"cron", "only for trigger_type scheduled"}, false},
		{"unknown trigger", post("/workflows", createBody(t, map[string]any{"trigger_type": "cron"})), 400, "invalid", []string{"trigger_type"}, false},
		{"params not an object", post("/workflows", createBody(t, map[string]any{"params": []int{1}})), 400, "invalid", []string{"params"}, false},
		{"max_attempts 0", post("/workflows", createBody(t, map[string]any{"max_attempts": 0})), 400, "invalid", []string{"max_attempts"}, false},
		{"idempotency key too long", post("/workflows", createBody(t, nil), "Idempotency-Key", strings.Repeat("k", 300)), 400, "invalid", []string{"Idempotency-Key"}, false},
		{"oversized body", post("/workflows", createBody(t, map[string]any{"params": map[string]string{"blob": strings.Repeat("x", 2<<20)}})), 413, "body_too_large", []string{"limit", "POST /api/v1/workflows/upload (casare workflows upload FILE) takes workflow files of up to 8388608 bytes"}, false},
		{"job option on a none trigger", post("/workflows", createBody(t, map[string]any{"trigger_type": "none", "pinned_robot": "vm"})), 400, "invalid", []string{"pinned_robot", "only for trigger_type manual"}, false},
		{"bad not_before on a manual trigger", post("/workflows", createBody(t, map[string]any{"not_before": "tomorrow"})), 400, "invalid", []string{"not_before", "RFC 3339"}, false},
		{"upload not multipart", post("/workflows/upload", helloWorkflow), 415, "unsupported_media_type", []string{"multipart"}, false},
		{"upload without file", upload(map[string]string{"priority": "3"}, ""), 400, "invalid", []string{"file"}, false},
		{"upload unknown field", upload(map[string]string{"colour": "red"}, helloWorkflow), 400, "invalid", []string{`"colour"`}, false},
		{"upload bad priority", upload(map[string]string{"priority": "high"}, helloWorkflow), 400, "invalid", []string{"priority", "integer"}, false},
		{"upload params with trailing data", upload(map[string]string{"trigger_type": "manual", "params": `{"a":1} {"b":2}`}, helloWorkflow), 400, "invalid", []string{"params", "after the JSON value"}, false},
		{"upload invalid workflow", upload(nil, `{"name":"x","nodes":[]}`), 400, "invalid", []string{"workflow_json"}, false},
		{"upload of 300 nodes without ids", upload(nil, `{"name":"x","nodes":[`+strings.Repeat(`{"type":"start"},`, 299)+`{"type":"start"}]}`), 400, "invalid", []string{"workflow_json", "problems", "nodes[99].id", "… and"}, false},
		{"job missing workflow_id", post("/jobs", `{"priority":1}`), 400, "invalid", []string{"workflow_id"}, false},
		{"job priority -1", post("/jobs", fmt.Sprintf(`{"workflow_id":%q,"priority":-1}`, wf.WorkflowID)), 400, "invalid", []string{"priority"}, false},
		{"job bad not_before", post("/jobs", fmt.Sprintf(`{"workflow_id":%q,"not_before":"tomorrow"}`, wf.WorkflowID)), 400, "invalid", []string{"not_before", "RFC 3339"}, false},
		{"job deadline before not_before", post("/jobs", fmt.Sprintf(`{"workflow_id":%q,"not_before":"2030-01-02T00:00:00Z","deadline":"2030-01-01T00:00:00Z"}`, wf.WorkflowID)), 400, "invalid", []string{"deadline"}, false},
		{"job deadline not RFC 3339", post("/jobs", job(`,"deadline":"next friday"`)), 400, "invalid", []string{"deadline", "RFC 3339", "next friday"}, false},
		{"job bad backoff", post("/jobs", job(`,"backoff":"fast"`)), 400, "invalid", []string{"backoff", "fast"}, false},
		{"job negative backoff", post("/jobs", job(`,"backoff":"-2s"`)), 400, "invalid", []string{"backoff", "negative"}, false},
		{"job backoff over the cap", post("/jobs", job(`,"backoff":"1h"`)), 400, "invalid", []string{"backoff", "5m0s"}, false},
		{"batch element bad backoff", post("/jobs/batch", `{"jobs":[`+job("")+`,`+job(`,"backoff":"2 seconds"`)+`]}`), 400, "invalid", []string{"jobs[1].backoff"}, false},
		{"batch empty", post("/jobs/batch", `{"jobs":[]}`), 400, "invalid", []string{"jobs"}, false},
		{"batch missing jobs", post("/jobs/batch", `{}`), 400, "invalid", []string{"jobs"}, false},
		{"batch too large", post("/jobs/batch", jobs1001), 400, "invalid", []string{"jobs", "1000"}, false},
		{"batch of empty objects", post("/jobs/batch", `{"jobs":[`+empties+`]}`), 400, "invalid", []string{"request body", "65539 JSON objects and arrays", "at most 65536"}, false},
		{"workflow of empty nodes", post("/workflows", createBody(t, map[string]any{"workflow_json": json.RawMessage(emptyNodes)})), 400, "invalid", []string{"65541 JSON objects and arrays"}, false},
		{"upload of empty nodes", upload(nil, emptyUpload), 400, "invalid", []string{"file holds 262148 JSON objects and arrays", "at most 262144", "8388608 bytes"}, false},
		{"batch element invalid", post("/jobs/batch", fmt.Sprintf(`{"jobs":[{"workflow_id":%[1]q},{"workflow_id":%[1]q,"priority":12}]}`, wf.WorkflowID)), 400, "invalid", []string{"jobs[1].priority"}, false},
		{"cancel unknown field", post("/jobs/x/cancel", `{"why":"x"}`), 400, "invalid", []string{`"why"`}, false},
		{"bad cursor", getPath("/jobs?cursor=not-a-cursor"), 400, "invalid", []string{"cursor"}, false},
		{"bad limit", getPath("/jobs?limit=abc"), 400, "invalid", []string{"limit"}, false},
		{"limit too large", getPath("/jobs?limit=5000"), 400, "invalid", []string{"limit"}, false},
		{"limit zero", getPath("/jobs?limit=0"), 400, "invalid", []string{"limit"}, false},
		{"bad state", getPath("/jobs?state=sleeping"), 400, "invalid", []string{"state", "sleeping"}, false},
		{"bad consistent", getPath("/workflows?consistent=maybe"), 400, "invalid", []string{"consistent"}, false},
		{"unknown job id", getPath("/jobs/no-such-job"), 404, "not_found", []string{"no-such-job"}, false},
		{"unknown workflow id", getPath("/workflows/no-such-wf"), 404, "not_found", []string{"no-such-wf"}, false},
		{"unknown route", getPath("/nothing"), 404, "not_found", []string{"/api/v1/nothing"}, false},
		{"wrong method", func(t *testing.T) response { return send(t, http.MethodPut, base+"/jobs", "", nil) }, 405, "method_not_allowed", []string{"PUT"}, false},
		{"bad force", func(t *testing.T) response {
			return send(t, http.MethodDelete, base+"/workflows/"+wf.WorkflowID+"?force=perhaps", "", nil)
		}, 400, "invalid", []string{"force"}, false},
		{"schedule bad cron", post("/schedules", fmt.Sprintf(`{"workflow_id":%q,"cron":"61 * * * *"}`, wf.WorkflowID)), 400, "invalid", []string{"cron", "61 * * * *"}, false},
		{"schedule cron with too many fields", post("/schedules", fmt.Sprintf(`{"workflow_id":%q,"cron":"* * * * * * *"}`, wf.WorkflowID)), 400, "invalid", []string{"cron"}, false},
		{"schedule unknown timezone", post("/schedules", schedule(`,"timezone":"Mars/Olympus"`)), 400, "invalid", []string{"timezone", "Mars/Olympus"}, false},
		{"schedule Local timezone", post("/schedules", schedule(`,"timezone":"Local"`)), 400, "invalid", []string{"timezone", "Local"}, false},
		{"schedule bad misfire", post("/schedules", schedule(`,"misfire":"sometimes"`)), 400, "invalid", []string{"misfire", "sometimes"}, false},
		{"schedule bad overlap", post("/schedules", schedule(`,"overlap":"maybe"`)), 400, "invalid", []string{"overlap", "maybe"}, false},
		{"schedule bad catchup_window", post("/schedules", schedule(`,"catchup_window":"a while"`)), 400, "invalid", []string{"catchup_window", "a while"}, false},
		{"schedule zero catchup_window", post("/schedules", schedule(`,"catchup_window":"0s"`)), 400, "invalid", []string{"catchup_window", "skip"}, false},
		{"schedule bad priority", post("/schedules", schedule(`,"priority":11`)), 400, "invalid", []string{"priority"}, false},
		{"schedule missing fields", post("/schedules", `{}`), 400, "invalid", []string{"workflow_id", "cron"}, false},
		{"schedule unknown field", post("/schedules", schedule(`,"every":"day"`)), 400, "invalid", []string{`"every"`}, false},
		{"unknown schedule id", getPath("/schedules/no-such-schedule"), 404, "not_found", []string{"no-such-schedule"}, false},
		{"settings negative max_concurrency", put("/workflows/"+wf.WorkflowID+"/settings", `{"max_concurrency":-1}`), 400, "invalid", []string{"max_concurrency", "-1"}, false},
		{"settings bad visibility_timeout", put("/workflows/"+wf.WorkflowID+"/settings", `{"visibility_timeout":"forever"}`), 400, "invalid", []string{"visibility_timeout", "forever"}, false},
		{"settings visibility_timeout under 1s", put("/workflows/"+wf.WorkflowID+"/settings", `{"visibility_timeout":"500ms"}`), 400, "invalid", []string{"visibility_timeout", "1s"}, false},
		{"settings with nothing to change", put("/workflows/"+wf.WorkflowID+"/settings", `{}`), 400, "invalid", []string{"max_concurrency", "visibility_timeout"}, false},
		{"token name with spaces around", post("/robots/tokens", `{"name":" r1 "}`), 400, "invalid", []string{"name"}, false},
		{"token unknown field", post("/robots/tokens", `{"nam":"r1"}`), 400, "invalid", []string{`"nam"`}, false},
		{"logs negative offset", getPath("/jobs/" + wf.JobID + "/logs?offset=-1"), 400, "invalid", []string{"offset"}, false},
		{"logs bad limit", getPath("/jobs/" + wf.JobID + "/logs?limit=0"), 400, "invalid", []string{"limit"}, false},
		{"logs bad follow", getPath("/jobs/" + wf.JobID + "/logs?follow=always"), 400, "invalid", []string{"follow"}, false},
		{"logs of unknown job", getPath("/jobs/no-such-job/logs"), 404, "not_found", []string{"no-such-job"}, false},
		{"rerun unknown field", post("/jobs/"+running+"/rerun", `{"latest":true}`), 400, "invalid", []string{`"latest"`}, false},
		{"claim without robot_id", internal("/robot/claim", `{"robot_kind":"lan","max":1}`), 400, "invalid", []string{"robot_id"}, false},
		{"claim bad robot_kind", internal("/robot/claim", `{"robot_id":"r1","robot_kind":"cloud","max":1}`), 400, "invalid", []string{"robot_kind", "cloud"}, false},
		{"claim max 0", internal("/robot/claim", `{"robot_id":"r1","robot_kind":"lan","max":0}`), 400, "invalid", []string{"max"}, false},
		{"progress without items", internal("/robot/progress", `{"robot_id":"r1","items":[]}`), 400, "invalid", []string{"items"}, false},
		{"progress logs_end per item", internal("/robot/progress?logs_end=1&logs_end=2", `{"robot_id":"r1","items":[{"job_id":"j","token":1}]}`), 400, "invalid", []string{"logs_end", "1 items"}, false},
		{"progress logs_end not a count", internal("/robot/progress?logs_end=-1", `{"robot_id":"r1","items":[{"job_id":"j","token":1}]}`), 400, "invalid", []string{"logs_end", `"-1"`}, false},
		{"complete logs_end short of its lines", internal("/robot/complete?logs_end=1", `{"robot_id":"r1","items":[{"job_id":"j","token":1,"succeeded":true,"logs":[{"time":"2026-01-01T00:00:00Z","level":"info","message":"a"},{"time":"2026-01-01T00:00:00Z","level":"info","message":"b"}]}]}`), 400, "invalid", []string{"logs_end 1", "2 log lines"}, false},
		{"complete item without job_id", internal("/robot/complete", `{"robot_id":"r1","items":[{"token":1,"succeeded":true}]}`), 400, "invalid", []string{"items[0].job_id"}, false},
		{"wait negative timeout", internal("/robot/wait", `{"robot_id":"r1","robot_kind":"lan","max":1,"timeout_ms":-5}`), 400, "invalid", []string{"timeout_ms"}, false},
		{"job for unknown workflow", post("/jobs", `{"workflow_id":"no-such-wf"}`), 404, "not_found", []string{"no-such-wf"}, true},
		{"schedule for unknown workflow", post("/schedules", `{"workflow_id":"no-such-wf","cron":"@daily"}`), 404, "not_found", []string{"no-such-wf"}, true},
		{"enable unknown schedule", put("/schedules/no-such-schedule/enable", ``), 404, "not_found", []string{"no-such-schedule"}, true},
		{"trigger unknown schedule", put("/schedules/no-such-schedule/trigger", ``), 404, "not_found", []string{"no-such-schedule"}, true},
		{"delete unknown schedule", del("/schedules/no-such-schedule"), 404, "not_found", []string{"no-such-schedule"}, true},
		{"revoke unknown token", del("/robots/tokens/no-such-token"), 404, "not_found", []string{"no-such-token"}, true},
		{"settings of unknown workflow", put("/workflows/no-such-wf/settings", `{"max_concurrency":2}`), 404, "not_found", []string{"no-such-wf"}, true},
		{"pause unknown workflow", post("/workflows/no-such-wf/pause", ``), 404, "not_found", []string{"no-such-wf"}, true},
		{"rerun unknown job", post("/jobs/no-such-job/rerun", ``), 404, "not_found", []string{"no-such-job"}, true},
		{"rerun of a running job", post("/jobs/"+running+"/rerun", ``), 409, "conflict", []string{running, "running"}, true},
		{"cancel unknown job", post("/jobs/no-such-job/cancel", ``), 404, "not_found", []string{"no-such-job"}, true},
		{"delete workflow with queued job", func(t *testing.T) response {
			return send(t, http.MethodDelete, base+"/workflows/"+wf.WorkflowID, "", nil)
		}, 409, "conflict", []string{"force=true"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before, index := replicatedState(t, node.Store), node.Store.AppliedIndex()
			resp := tc.request(t)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			e := resp.apiError(t)
			if e.Code != tc.code {
				t.Errorf("code %q, want %q (message %q)", e.Code, tc.code, e.Message)
			}
			for _, m := range tc.mention {
				if !strings.Contains(e.Message, m) {
					t.Errorf("message %q does not mention %q", e.Message, m)
				}
			}
			if after := replicatedState(t, node.Store); after != before {
				t.Errorf("refused request changed the state:\nbefore %s\nafter  %s", before, after)
			}
			if after := node.Store.AppliedIndex(); !tc.reachesStore && after != index {
				t.Errorf("refused request reached Raft: applied index %d → %d", index, after)
			}
		})
	}
}

func TestErrorDetailsNameTheProblem(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	base := node.URL + "/api/v1"

	resp := postJSON(t, base+"/workflows", createBody(t, map[string]any{"workflow_json": json.RawMessage(
		`{"name":"bad","nodes":[{"id":"start","type":"start"},{"id":"x","type":"teleport"},{"id":"y","type":"warp"}],"connections":[{"from":"start","to":"x"},{"from":"x","to":"y"}]}`)}))
	var details struct {
		Field    string
		Problems []struct {
			NodeID string `json:"node_id"`
			Field  string `json:"field"`
		}
	}
	if err := json.Unmarshal(resp.apiError(t).Details, &details); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range details.Problems {
		got[p.NodeID] = p.Field
	}
	if details.Field != "workflow_json" || got["x"] != "type" || got["y"] != "type" {
		t.Errorf("details %+v: want field workflow_json and a type problem for nodes x and y", details)
	}

	resp = postJSON(t, base+"/workflows", createBody(t, map[string]any{"priority": "high"}))
	var typeDetails struct{ Field, Expected string }
	json.Unmarshal(resp.apiError(t).Details, &typeDetails)
	if typeDetails.Field != "priority" || typeDetails.Expected != "integer" {
		t.Errorf("wrong-type details %+v, want field priority, expected integer", typeDetails)
	}

	resp = postJSON(t, base+"/workflows", `{}`)
	var missing struct{ Fields []string }
	json.Unmarshal(resp.apiError(t).Details, &missing)
	if strings.Join(missing.Fields, ",") != "workflow_name,workflow_json" {
		t.Errorf("missing-field details %+v", missing)
	}

	counts, _ := node.Store.JobCounts()
	if counts[consensus.JobQueued] != 0 {
		t.Errorf("refused requests queued %d jobs", counts[consensus.JobQueued])
	}
}

// An upload of 8 MiB of empty workflow nodes, or of empty values in a
// workflow's variables (a map[string]any, decoded in full whatever its
// keys are called), is refused before it is decoded: decoding the nodes
// allocated 2.6 GB, enough to take down a node. Not parallel, so that
// the process's allocations are this test's.
func TestEmptyContainersAreRefusedBeforeDecoding(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	n := (api.DefaultMaxUploadBytes - 4096) / 3
	for name, file := range map[string]string{
		"empty nodes":            `{"name":"x","nodes":[` + strings.Repeat(`{},`, n-1) + `{}],"connections":[]}`,
		"variables named result": `{"name":"x","variables":{"result":[` + strings.Repeat(`{},`, n-1) + `{}]},"nodes":[],"connections":[]}`,
		"arrays in a variable":   `{"name":"x","variables":{"a":[` + strings.Repeat(`[],`, n-1) + `[]]},"nodes":[],"connections":[]}`,
	} {
		ct, body := multipartBody(t, nil, file)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		resp := send(t, http.MethodPost, node.URL+"/api/v1/workflows/upload", ct, body)
		runtime.ReadMemStats(&after)
		if resp.status != http.StatusBadRequest || !strings.Contains(string(resp.body), "JSON objects and arrays") {
			t.Fatalf("upload of %s: %d %.300s, want 400 naming the JSON objects and arrays", name, resp.status, resp.body)
		}
		// The body itself is copied a few times on its way in.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 160<<20 {
			t.Errorf("refusing the upload of %s allocated %d MB, want under 160", name, alloc>>20)
		}
	}
}
