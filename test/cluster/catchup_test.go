//go:build unix

package cluster

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// catchUpJobs is how many queued jobs the restarted node holds: enough
// that replaying them is not instant, few enough to submit in seconds.
const catchUpJobs = 5000

// TestRestartedNodeAnswersCatchingUpUntilItHasItsState: a node restarted
// on a data dir holding thousands of queued jobs never shows a queue
// short of them. Until it has applied what it held, the queue endpoint
// answers 503 catching_up with Retry-After and /health/ready is not
// ready; from then on it shows every job.
func TestRestartedNodeAnswersCatchingUpUntilItHasItsState(t *testing.T) {
	t.Parallel()
	c := newCluster(t)
	n1 := c.bootstrap("n1", "--robot=false") // the jobs stay queued
	wf, err := n1.client.CreateWorkflow(t.Context(), noneTrigger("held"))
	if err != nil {
		t.Fatal(err)
	}
	submitJobs(t, n1, wf.WorkflowID, catchUpJobs)
	n1.kill()
	n1.start()

	hc := &http.Client{Timeout: callTimeout}
	withTokenFile(n1.tokenFile)(hc)
	var catchingUp, notReady int
	deadline := time.Now().Add(startTimeout)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no full queue within %v (%d catching_up answers)", startTimeout, catchingUp)
		}
		ready := false
		if resp, err := hc.Get("http://" + n1.http + "/health/ready"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
			if !ready {
				notReady++
			}
		}
		resp, err := hc.Get("http://" + n1.http + "/api/v1/queue")
		if err != nil {
			time.Sleep(10 * time.Millisecond) // not listening yet
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusServiceUnavailable {
			var e api.ErrorResponse
			json.Unmarshal(body, &e)
			if e.Error.Code != "catching_up" || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("503 while restarting is not catching_up with Retry-After: %v %s", resp.Header, body)
			}
			if ready {
				t.Fatalf("/health/ready said ready while the queue answered catching_up")
			}
			catchingUp++
			continue
		}
		var stats api.QueueStats
		if err := json.Unmarshal(body, &stats); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/v1/queue: %d %s", resp.StatusCode, body)
		}
		if queued := stats.ByState["queued"]; queued != catchUpJobs {
			t.Fatalf("the restarted node showed %d queued jobs of %d (applied index %d)", queued, catchUpJobs, stats.AppliedIndex)
		}
		break
	}
	t.Logf("the restarted node answered catching_up %d times and not ready %d times before it showed all %d jobs",
		catchingUp, notReady, catchUpJobs)
	if catchingUp == 0 {
		t.Log("the node had caught up before the first answer: nothing to observe this time")
	}
}
