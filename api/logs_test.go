package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

func logBatch(from, n int) []consensus.LogLine {
	lines := make([]consensus.LogLine, n)
	for i := range lines {
		lines[i] = consensus.LogLine{Time: time.Now(), Level: "info", NodeID: "start", Message: fmt.Sprint("line ", from+i)}
	}
	return lines
}

func messages(lines []api.LogLine) string {
	var out []string
	for _, l := range lines {
		out = append(out, l.Message)
	}
	return strings.Join(out, "|")
}

// TestFollowLogsToTheEnd follows a job's log from submission through a
// robot's heartbeats to its completion.
func TestFollowLogsToTheEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	node := apitest.StartLeader(t, "n1")
	c := node.Client
	job := submit(t, node, fmt.Sprintf(`{"workflow_id":%q}`, newWorkflow(t, node)))

	type followed struct {
		lines []api.LogLine
		end   api.JobLogsEnd
		err   error
	}
	result := make(chan followed, 1)
	seen := make(chan struct{}, 10)
	go func() {
		var f followed
		f.end, f.err = c.FollowJobLogs(ctx, job.ID, 0, func(l api.LogLine) error {
			f.lines = append(f.lines, l)
			seen <- struct{}{}
			return nil
		})
		result <- f
	}()

	claimed, err := node.Peer.RobotClaim(ctx, lanRobot)
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v, %v", claimed, err)
	}
	token := claimed[0].Job.Lease.Token
	for _, from := range []int{0, 3} {
		_, err := node.Peer.RobotProgress(ctx, consensus.ProgressCmd{RobotID: "r1", Items: []consensus.Progress{{
			JobID: job.ID, Token: token, Logs: logBatch(from, 3),
		}}})
		if err != nil {
			t.Fatal(err)
		}
		// Each batch reaches the follower while the job runs.
		for range 3 {
			select {
			case <-seen:
			case <-time.After(5 * time.Second):
				t.Fatalf("the follower did not see the batch from line %d", from)
			}
		}
	}
	_, err = node.Peer.RobotComplete(ctx, consensus.CompleteCmd{RobotID: "r1", Items: []consensus.Completion{{
		JobID: job.ID, Token: token, Succeeded: true, Logs: logBatch(6, 1),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var f followed
	select {
	case f = <-result:
	case <-time.After(5 * time.Second):
		t.Fatal("the follower did not end when the job finished")
	}
	want := "line 0|line 1|line 2|line 3|line 4|line 5|line 6"
	if f.err != nil || messages(f.lines) != want || f.end.State != "succeeded" || f.end.JobID != job.ID {
		t.Errorf("followed %q, end %+v, %v", messages(f.lines), f.end, f.err)
	}

	// Paging the kept lines of the finished job.
	page, err := c.JobLogs(ctx, job.ID, 0, 4)
	if err != nil || messages(page.Lines) != "line 0|line 1|line 2|line 3" || page.NextOffset != 4 || !page.Finished {
		t.Errorf("page 1: %+v, %v", page, err)
	}
	page, err = c.JobLogs(ctx, job.ID, page.NextOffset, 4)
	if err != nil || messages(page.Lines) != "line 4|line 5|line 6" || page.NextOffset != 7 {
		t.Errorf("page 2: %+v, %v", page, err)
	}
	resp := get(t, node.URL+"/api/v1/jobs/"+job.ID+"/logs?offset=50")
	if !strings.Contains(string(resp.body), `"lines":[]`) || !strings.Contains(string(resp.body), `"next_offset":7`) {
		t.Errorf("page past the end: %s", resp.body)
	}

	// Following a finished job from an offset sends the rest and the end.
	var rest []api.LogLine
	end, err := c.FollowJobLogs(ctx, job.ID, 5, func(l api.LogLine) error { rest = append(rest, l); return nil })
	if err != nil || messages(rest) != "line 5|line 6" || end.State != "succeeded" {
		t.Errorf("follow a finished job from 5: %q, %+v, %v", messages(rest), end, err)
	}
	raw := get(t, node.URL+"/api/v1/jobs/"+job.ID+"/logs?follow=true&offset=6")
	if raw.header.Get("Content-Type") != "text/event-stream" ||
		!strings.HasSuffix(string(raw.body), "event: end\ndata: {\"job_id\":\""+job.ID+"\",\"state\":\"succeeded\"}\n\n") {
		t.Errorf("event stream: %q %q", raw.header.Get("Content-Type"), raw.body)
	}
}

func TestFollowStopsWhenTheClientGoes(t *testing.T) {
	t.Parallel()
	node := apitest.StartLeader(t, "n1")
	job := submit(t, node, fmt.Sprintf(`{"workflow_id":%q}`, newWorkflow(t, node)))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	_, err := node.Client.FollowJobLogs(ctx, job.ID, 0, func(api.LogLine) error { return nil })
	if err == nil || ctx.Err() == nil {
		t.Fatalf("follow of a queued job ended before the client gave up: %v", err)
	}
	// The server notices the client left: its handler returns, and the
	// request is counted.
	apitest.WaitFor(t, 5*time.Second, "the follow handler to return", func() bool {
		return strings.Contains(string(get(t, node.URL+"/metrics").body),
			`casare_http_requests_total{code="200",method="GET",route="/api/v1/jobs/:id/logs"} 1`)
	})
	if resp := get(t, node.URL+"/api/v1/jobs/no-such-job/logs?follow=true"); resp.status != http.StatusNotFound {
		t.Errorf("follow of an unknown job: %d %s", resp.status, resp.body)
	}
}
