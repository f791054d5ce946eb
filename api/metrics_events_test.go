package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// /metrics reports finished jobs by workflow and outcome, run durations
// and claim latencies as the node applies them, robots by state and
// kind, and the event stream's clients.
func TestMetricsCountJobsRobotsAndStreamClients(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	wf := createWorkflow(t, node)
	submitN(t, node, wf, "m", 3)
	claimed, err := node.Store.Claim(t.Context(), consensus.ClaimCmd{RobotID: "r1", RobotKind: consensus.RobotLAN, Max: 2})
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d, %v", len(claimed), err)
	}
	done := consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{
		{JobID: claimed[0].Job.ID, Token: claimed[0].Job.Lease.Token, Succeeded: true},
		{JobID: claimed[1].Job.ID, Token: claimed[1].Job.Lease.Token, Error: "bad invoice", FailureKind: consensus.FailureBusiness},
	}}
	if _, err := node.Store.Complete(t.Context(), done); err != nil {
		t.Fatal(err)
	}
	if _, err := node.Store.CancelJob(t.Context(), "m-002", ""); err != nil {
		t.Fatal(err)
	}
	if err := node.Store.SetRobotStatus(t.Context(), consensus.RobotRecord{ID: "net1", Kind: "internet", Node: "n1", Connected: true}); err != nil {
		t.Fatal(err)
	}
	dialEvents(t, node, "")

	want := []string{
		`casare_jobs_finished_total{outcome="succeeded",workflow="events"} 1`,
		`casare_jobs_finished_total{outcome="failed",workflow="events"} 1`,
		`casare_jobs_finished_total{outcome="cancelled",workflow="events"} 1`,
		`casare_job_duration_seconds_count{outcome="succeeded"} 1`,
		`casare_job_duration_seconds_count{outcome="failed"} 1`,
		`casare_job_claim_latency_seconds_count 2`,
		`casare_robots{kind="internet",state="alive"} 1`,
		`casare_robots{kind="lan",state="suspect"} 0`,
		`casare_event_stream_clients 1`,
		`casare_event_stream_drops_total 0`,
	}
	var body string
	apitest.WaitFor(t, 10*time.Second, "the metrics", func() bool {
		body = string(get(t, node.URL+"/metrics").body)
		for _, w := range want {
			if !strings.Contains(body, w) {
				return false
			}
		}
		return true
	})
	if strings.Contains(body, `casare_job_duration_seconds_count{outcome="cancelled"}`) {
		t.Errorf("a job cancelled before it ran has a run duration:\n%s", grepLines(body, "duration_seconds_count"))
	}
}
