package api

import (
	"errors"
	"testing"
)

// FuzzCreateWorkflowRequest feeds arbitrary bodies through the same
// decoding and checking a POST /api/v1/workflows takes before anything is
// stored. Whatever arrives, the result is a plan or an API error with a
// message — never a panic, never a plan without a name or graph.
func FuzzCreateWorkflowRequest(f *testing.F) {
	f.Add([]byte(`{"workflow_name":"a","workflow_json":{"name":"a","nodes":[{"id":"start","type":"start"}]}}`))
	f.Add([]byte(`{"workflow_name":"a","workflow_json":{"nodes":[{"id":"start","type":"start"},{"id":"x","type":"teleport"}],"connections":[{"from":"start","to":"x"}]}}`))
	f.Add([]byte(`{"workflow_name":"s","trigger_type":"scheduled","cron":"*/5 * * * *","timezone":"Europe/Berlin","workflow_json":{"name":"s","nodes":[{"id":"start","type":"start"}]}}`))
	f.Add([]byte(`{"priority":"high"}`))
	f.Add([]byte(`{"workflow_name":1`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"workflow_name":"a","params":[1,2],"execution_mode":"moon"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req CreateWorkflowRequest
		if err := decodeStrict(body, &req); err != nil {
			requireAPIError(t, err)
			return
		}
		plan, err := planWorkflowWrite(req, "", "")
		if err != nil {
			requireAPIError(t, err)
			return
		}
		if plan.put.Name == "" || len(plan.put.Graph) == 0 || plan.put.ID == "" {
			t.Fatalf("accepted a plan without name, graph or id: %+v", plan.put)
		}
	})
}

// FuzzJobRequest does the same for POST /api/v1/jobs.
func FuzzJobRequest(f *testing.F) {
	f.Add([]byte(`{"workflow_id":"w","priority":3,"execution_mode":"lan","backoff":"2s","deadline":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"workflow_id":"w","priority":10}`))
	f.Add([]byte(`{"workflow_id":"w","backoff":"forever"}`))
	f.Add([]byte(`{"workflow_id":"w","not_before":"tomorrow"}`))
	f.Add([]byte(`{"workflow_id":"w","debug":{"breakpoints":["a","call/b"],"pause_timeout":"5m"}}`))
	f.Add([]byte(`{"workflow_id":"w","debug":{"breakpoints":[""],"pause_timeout":"-1s"}}`))
	f.Add([]byte(`{"workflow_id":"w","debug":{"pause_timeout":"9999h","extra":1}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req JobRequest
		if err := decodeStrict(body, &req); err != nil {
			requireAPIError(t, err)
			return
		}
		spec, err := jobSpec(req, "id-1")
		if err != nil {
			requireAPIError(t, err)
			return
		}
		if spec.Priority < 0 || spec.Priority > 9 || spec.ExecutionMode == "" {
			t.Fatalf("accepted an out-of-range spec: %+v", spec)
		}
		if spec.Debug != nil && spec.Debug.Check() != nil {
			t.Fatalf("accepted invalid debug options %+v: %v", spec.Debug, spec.Debug.Check())
		}
	})
}

func requireAPIError(t *testing.T, err error) {
	t.Helper()
	var e *apiError
	if !errors.As(err, &e) || e.message == "" {
		t.Fatalf("error %v (%T) is not an API error with a message", err, err)
	}
}
