//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/archive/archivetest"
)

// archiveKillJobs is the figure: the leader is SIGKILLed while
// it archives 50,000 jobs (about half a minute of running and archiving
// on a 2-core machine).
const archiveKillJobs = 50000

// archived reads id → state of every archived job.
func archived(t *testing.T, url string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, state FROM jobs`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for rows.Next() {
		var id, state string
		if err := rows.Scan(&id, &state); err != nil {
			t.Fatal(err)
		}
		out[id] = state
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestArchiveExactlyOnceUnderLeaderKill SIGKILLs the leader of three
// real processes while it archives: the new leader resumes from the
// position in Postgres, and every job is archived once, as Raft has it.
func TestArchiveExactlyOnceUnderLeaderKill(t *testing.T) {
	url := archivetest.Database(t)
	c := startCluster(t, 3, "--archive-url", url)
	ctx := context.Background()
	cl := c.follower().client
	wf, err := cl.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "noop", TriggerType: "none", ExecutionMode: "lan",
		WorkflowJSON: json.RawMessage(`{"name":"noop","nodes":[{"id":"start","type":"start"},{"id":"say","type":"log","config":{"message":"hi {{ job_id }}"}}],"connections":[{"from":"start","to":"say"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for len(ids) < archiveKillJobs {
		batch := make([]api.JobRequest, 1000)
		for i := range batch {
			batch[i] = api.JobRequest{WorkflowID: wf.WorkflowID}
		}
		jobs, err := cl.SubmitJobs(ctx, batch)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			ids[j.ID] = true
		}
	}
	waitFor(t, 2*time.Minute, "the leader to archive its first jobs", func() (bool, error) {
		n := len(archived(t, url))
		return n > 0 && n < archiveKillJobs, fmt.Errorf("%d archived", n)
	})
	leader := c.leader()
	leader.kill()
	t.Logf("SIGKILLed leader %s with %d of %d jobs archived", leader.name, len(archived(t, url)), archiveKillJobs)

	survivor := c.others(leader)[0]
	// Cheap while it runs: the counts. The list, once, when done.
	waitFor(t, drainTimeout, "every job to finish", func() (bool, error) {
		st, err := survivor.client.QueueStats(ctx)
		if err != nil {
			return false, err
		}
		left := st.ByState["queued"] + st.ByState["running"]
		return left == 0, fmt.Errorf("%d queued or running", left)
	})
	states := map[string]string{}
	for cursor := ""; ; {
		page, err := survivor.client.Jobs(ctx, client.JobQuery{WorkflowID: wf.WorkflowID, Limit: 1000, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range page.Jobs {
			if j.FinishedAt.IsZero() {
				t.Fatalf("job %s is %s after the queue drained", j.ID, j.State)
			}
			states[j.ID] = j.State
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(states) != archiveKillJobs {
		t.Fatalf("%d jobs listed, want %d", len(states), archiveKillJobs)
	}
	var got map[string]string
	waitFor(t, 2*time.Minute, "the archive to catch up", func() (bool, error) {
		got = archived(t, url)
		return len(got) >= archiveKillJobs, fmt.Errorf("%d of %d archived", len(got), archiveKillJobs)
	})
	if len(got) != archiveKillJobs {
		t.Fatalf("archive holds %d jobs, want %d", len(got), archiveKillJobs)
	}
	for id, state := range states {
		if !ids[id] || got[id] != state {
			t.Fatalf("job %s is %s in raft and %q in the archive", id, state, got[id])
		}
	}
}
