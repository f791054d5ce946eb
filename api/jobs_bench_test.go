package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/internal/testutil"
)

// BenchmarkPostJobsBatch posts batches of 100 jobs, the bench's batched
// figure, to a one-node cluster's handler in process: its allocs/op are
// the whole call's, decoding, checking, the Raft entry and its apply,
// and the answer. Unlike a rate on a shared machine, they do not move
// with the load; its cpu-µs/op, the process's CPU time per batch, moves
// less than its ns/op.
func BenchmarkPostJobsBatch(b *testing.B) {
	n := apitest.StartLeader(b, "n1")
	h := n.Server.Config.Handler
	body, err := json.Marshal(map[string]any{"workflow_name": "hello", "workflow_json": json.RawMessage(helloWorkflow), "trigger_type": "none"})
	if err != nil {
		b.Fatal(err)
	}
	w := serve(b, h, "/api/v1/workflows", body, http.StatusCreated)
	var wf api.CreateWorkflowResponse
	if err := json.Unmarshal(w.Body.Bytes(), &wf); err != nil {
		b.Fatal(err)
	}
	one := fmt.Sprintf(`{"workflow_id":%q,"execution_mode":"lan"}`, wf.WorkflowID)
	batch := []byte(`{"jobs":[` + strings.Repeat(one+",", 99) + one + `]}`)
	b.ReportAllocs()
	cpu := testutil.ProcessCPU(b)
	for b.Loop() {
		w := serve(b, h, "/api/v1/jobs/batch", batch, http.StatusCreated)
		if !bytes.HasPrefix(w.Body.Bytes(), []byte(`{"jobs":[{"id":`)) {
			b.Fatalf("answer %s", w.Body)
		}
	}
	b.ReportMetric(float64((testutil.ProcessCPU(b)-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
}

func serve(b *testing.B, h http.Handler, path string, body []byte, status int) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apitest.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != status {
		b.Fatalf("%s: %d %s", path, w.Code, w.Body)
	}
	return w
}
