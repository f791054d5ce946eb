package node

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
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
)

// logWorkflow logs one line, so every archived job has a log to check.
const logWorkflow = `{"name":"logger","description":"writes one line","nodes":[
 {"id":"start","type":"start"},
 {"id":"say","type":"log","config":{"message":"hello from {{ job_id }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"say"},{"from":"say","to":"end"}]}`

// archiveRow is what the archive holds of one job.
type archiveRow struct {
	state    string
	index    uint64
	attempts int
	lines    int
}

// archiveRows reads every archived job.
func archiveRows(t *testing.T, url string) map[string]archiveRow {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT j.id, j.state, j.raft_index,
		(SELECT count(*) FROM job_attempts a WHERE a.job_id = j.id), (SELECT count(*) FROM job_logs l WHERE l.job_id = j.id)
		FROM jobs j`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]archiveRow{}
	for rows.Next() {
		var id string
		var r archiveRow
		var idx int64
		if err := rows.Scan(&id, &r.state, &idx, &r.attempts, &r.lines); err != nil {
			t.Fatal(err)
		}
		r.index = uint64(idx)
		out[id] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// submitLoggers creates the logger workflow and queues n of its jobs.
func submitLoggers(t *testing.T, c *client.Client, n int) string {
	t.Helper()
	ctx := context.Background()
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "logger", WorkflowJSON: json.RawMessage(logWorkflow), TriggerType: "none", ExecutionMode: "lan",
	})
	if err != nil {
		t.Fatal(err)
	}
	for done := 0; done < n; {
		batch := make([]api.JobRequest, min(500, n-done))
		for i := range batch {
			batch[i] = api.JobRequest{WorkflowID: wf.WorkflowID}
		}
		if _, err := c.SubmitJobs(ctx, batch); err != nil {
			t.Fatal(err)
		}
		done += len(batch)
	}
	return wf.WorkflowID
}

// checkArchivedOnce waits until the archive holds exactly the finished
// jobs of s, each as Raft has it (state, finishing index, attempts, log
// lines), and no other.
func checkArchivedOnce(t *testing.T, s *consensus.Store, url string, want int) {
	t.Helper()
	var finished []consensus.Job
	testutil.Eventually(t, 3*time.Minute, fmt.Sprintf("all %d jobs to finish", want), func() (bool, error) {
		finished, _, _ = s.FinishedFrom(0, want+1)
		return len(finished) == want, fmt.Errorf("%d finished", len(finished))
	})
	var rows map[string]archiveRow
	testutil.Eventually(t, 2*time.Minute, "the archive to catch up", func() (bool, error) {
		rows = archiveRows(t, url)
		return len(rows) >= want, fmt.Errorf("%d of %d archived", len(rows), want)
	})
	if len(rows) != want {
		t.Fatalf("archive holds %d jobs, want %d", len(rows), want)
	}
	for _, j := range finished {
		r, ok := rows[j.ID]
		if !ok {
			t.Fatalf("job %s (finished at index %d) is not archived", j.ID, j.FinishedIndex)
		}
		if r.state != string(j.State) || r.index != j.FinishedIndex || r.attempts != len(j.Attempts) || r.lines != len(j.Logs) {
			t.Fatalf("job %s archived as %+v; raft has state %s, index %d, %d attempts, %d lines",
				j.ID, r, j.State, j.FinishedIndex, len(j.Attempts), len(j.Logs))
		}
	}
}

func TestEveryJobIsArchivedOnceAcrossALeaderKill(t *testing.T) {
	url := archivetest.Database(t)
	const jobs = 3000
	cfg := func(name, join string) Config {
		c := testConfig(t, name, join)
		c.ArchiveURL = url
		return c
	}
	nodes := []*Node{startNode(t, cfg("a1", ""))}
	nodes = append(nodes, startNode(t, cfg("a2", nodes[0].HTTPAddr())))
	nodes = append(nodes, startNode(t, cfg("a3", nodes[1].HTTPAddr())))
	c := client.New("http://" + nodes[2].HTTPAddr())
	submitLoggers(t, c, jobs)

	// Kill the leader while it is archiving: some jobs are in, most not.
	testutil.Eventually(t, 2*time.Minute, "the leader to archive its first jobs", func() (bool, error) {
		n := len(archiveRows(t, url))
		return n > 0 && n < jobs, fmt.Errorf("%d archived", n)
	})
	var survivor *Node
	for _, n := range nodes {
		if n.Store().IsLeader() {
			t.Logf("closing leader %s with %d jobs archived", n.cfg.Name, len(archiveRows(t, url)))
			n.Close()
		} else {
			survivor = n
		}
	}
	checkArchivedOnce(t, survivor.Store(), url, jobs)
}
