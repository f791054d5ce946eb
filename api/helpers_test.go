package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
)

// helloWorkflow is the smallest valid workflow: start, then end.
const helloWorkflow = `{"name":"hello","nodes":[{"id":"start","type":"start"},{"id":"done","type":"end"}],"connections":[{"from":"start","to":"done"}]}`

// response is a decoded HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// apiError decodes the error envelope, failing the test if the body is
// not one.
func (r response) apiError(t *testing.T) api.ErrorBody {
	t.Helper()
	var env api.ErrorResponse
	if err := json.Unmarshal(r.body, &env); err != nil || env.Error.Code == "" {
		t.Fatalf("status %d: body is not an error envelope: %s", r.status, r.body)
	}
	if len(env.Error.Details) == 0 || env.Error.Details[0] != '{' {
		t.Fatalf("error details are not an object: %s", r.body)
	}
	return env.Error
}

func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// send makes one raw request, so tests can send what no typed client
// would.
func send(t *testing.T, method, url, contentType string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

func postJSON(t *testing.T, url, body string, header ...string) response {
	t.Helper()
	return send(t, http.MethodPost, url, "application/json", []byte(body), header...)
}

func get(t *testing.T, url string) response {
	t.Helper()
	return send(t, http.MethodGet, url, "", nil)
}

// replicatedState renders every workflow and job a store holds, so a
// test can tell whether a request changed anything.
func replicatedState(t *testing.T, store *consensus.Store) string {
	t.Helper()
	wfs, _ := store.Workflows()
	jobs, _, _ := store.Jobs(consensus.JobFilter{Limit: consensus.MaxListLimit})
	data, err := json.Marshal(struct {
		Workflows []consensus.Workflow
		Jobs      []consensus.Job
	}{wfs, jobs})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
