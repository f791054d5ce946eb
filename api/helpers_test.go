package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
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
// would. It authenticates as the test cluster's admin unless header sets
// Authorization itself; an empty value sends none.
func send(t *testing.T, method, url, contentType string, body []byte, header ...string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+apitest.AdminToken)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization")
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

// replicatedState renders every workflow, job, schedule and robot token
// a store holds and whether its queue is paused, so a test can tell
// whether a request changed anything.
func replicatedState(t *testing.T, store *consensus.Store) string {
	t.Helper()
	wfs, _ := store.Workflows()
	jobs, _, _ := store.Jobs(consensus.JobFilter{Limit: consensus.MaxListLimit})
	schedules, _ := store.Schedules("")
	data, err := json.Marshal(struct {
		Workflows []consensus.Workflow
		Jobs      []consensus.Job
		Schedules []consensus.Schedule
		Tokens    []consensus.RobotToken
		Paused    bool
	}{wfs, jobs, schedules, store.Tokens(), store.QueueStats(time.Time{}).Paused})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// runningJob queues a job of the workflow at the top priority, so that it
// is claimed first, claims it for robot "r1" through the store and
// returns its id.
func runningJob(t *testing.T, node *apitest.Node, workflowID string) string {
	t.Helper()
	jobs, err := node.Store.SubmitJobs(t.Context(), []consensus.JobSpec{{
		ID: "running-" + workflowID, WorkflowID: workflowID, Priority: 9, ExecutionMode: consensus.ModeAny,
	}})
	if err != nil {
		t.Fatal(err)
	}
	claimed, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 1})
	if err != nil || len(claimed) != 1 || claimed[0].Job.ID != jobs[0].ID {
		t.Fatalf("claim %s: %+v, %v", jobs[0].ID, claimed, err)
	}
	return jobs[0].ID
}
