package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/archive"
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
	cfg := func(name string, seed *Node) Config {
		c := testConfig(t, name, "")
		if seed != nil {
			c = joinConfig(t, name, seed)
		}
		c.ArchiveURL = url
		return c
	}
	nodes := []*Node{startNode(t, cfg("a1", nil))}
	nodes = append(nodes, startNode(t, cfg("a2", nodes[0])))
	nodes = append(nodes, startNode(t, cfg("a3", nodes[1])))
	c := adminClient(t, nodes[2], nodes[0])
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

// outage is how long Postgres is away in the outage test: the issue's
// figure, long enough for several failed archiver rounds and retries.
const outage = 30 * time.Second

func TestArchiverCatchesUpAfterAPostgresOutage(t *testing.T) {
	dbURL := archivetest.Database(t)
	proxy := archivetest.NewProxy(t, dbURL)
	cfg := testConfig(t, "outage", "")
	cfg.ArchiveURL = proxy.URL(dbURL)
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	wfID := submitLoggers(t, c, 500)
	testutil.Eventually(t, time.Minute, "the first jobs to be archived", func() (bool, error) {
		k := len(archiveRows(t, dbURL))
		return k > 0, fmt.Errorf("%d archived", k)
	})

	proxy.Cut()
	cutAt := time.Now()
	t.Log("postgres cut")
	// The cluster keeps working without its archive for the 30
	// seconds: batches of jobs are queued and run, one after the other,
	// and the status says the archive is unreachable.
	more := make([]api.JobRequest, 250)
	for i := range more {
		more[i] = api.JobRequest{WorkflowID: wfID}
	}
	ctx := context.Background()
	total := 500
	for time.Since(cutAt) < outage {
		if _, err := c.SubmitJobs(ctx, more); err != nil {
			t.Fatalf("submit during the outage: %v", err)
		}
		total += len(more)
		testutil.Eventually(t, 2*time.Minute, "jobs to finish during the outage", func() (bool, error) {
			done, _, _ := n.Store().FinishedFrom(0, total+1)
			return len(done) == total, fmt.Errorf("%d of %d finished", len(done), total)
		})
	}
	cl, err := c.Cluster(ctx)
	if err != nil || cl.Archive == nil || cl.Archive.Error == "" {
		t.Fatalf("cluster status during the outage: %+v, %v; want an archive error", cl.Archive, err)
	}
	if list, err := c.Jobs(ctx, client.JobQuery{Limit: 10}); err != nil || len(list.Jobs) != 10 {
		t.Fatalf("listing jobs during the outage: %d jobs, %v", len(list.Jobs), err)
	}
	before := len(archiveRows(t, dbURL))
	if before >= total {
		t.Fatalf("%d jobs archived through a cut proxy", before)
	}

	// The lag in jobs and time is this node's own reading: it shows
	// while the archive is away only through the last position read.
	if pending, oldest := n.Store().FinishedAfter(n.archiver.ArchivedPosition().Index); pending < total-before || time.Since(oldest) < outage/2 {
		t.Errorf("%d finished jobs above the archive's position, the oldest finished %s ago; want at least %d, over %s", pending, time.Since(oldest), total-before, outage/2)
	}
	proxy.Restore()
	t.Logf("postgres back after %s with %d of %d jobs archived", time.Since(cutAt).Round(time.Second), before, total)
	checkArchivedOnce(t, n.Store(), dbURL, total)
	testutil.Eventually(t, time.Minute, "the lag to come back to zero", func() (bool, error) {
		cl, err := c.Cluster(ctx)
		if err != nil || cl.Archive == nil {
			return false, err
		}
		return cl.Archive.Error == "" && cl.Archive.Lag < 50 && cl.Archive.LagJobs == 0 && cl.Archive.LagSeconds == 0, fmt.Errorf("archive %+v", *cl.Archive)
	})
}

func TestAJobOnlyInTheArchiveIsServedWithSourceArchive(t *testing.T) {
	dbURL := archivetest.Database(t)
	cfg := testConfig(t, "reader", "")
	cfg.ArchiveURL = dbURL
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	ctx := context.Background()
	wfID := submitLoggers(t, c, 3)
	testutil.Eventually(t, time.Minute, "the jobs to be archived", func() (bool, error) {
		k := len(archiveRows(t, dbURL))
		return k == 3, fmt.Errorf("%d archived", k)
	})

	// A job that left Raft: in the archive only (retention is not built
	// yet, so it is written there directly, with its full log).
	at := time.Now().Add(-48 * time.Hour).UTC()
	old := consensus.Job{
		ID: "old-job", WorkflowID: wfID, WorkflowVersion: 1, State: consensus.JobFailed, ExecutionMode: "lan",
		Attempt: 1, MaxAttempts: 1, Error: "upstream said no", Seq: 0,
		CreatedAt: at, StartedAt: at, FinishedAt: at.Add(time.Second),
	}
	for i := range consensus.MaxJobLogLines + 50 {
		old.Logs = append(old.Logs, consensus.LogLine{Time: at, Level: "info", Message: fmt.Sprintf("line %d of a long run", i)})
	}
	// Jobs at or below the position count as archived already; this one
	// is written well above it (the idle cluster's entries move it on),
	// without moving it.
	pos, err := n.archive.Position(ctx)
	if err != nil {
		t.Fatal(err)
	}
	old.FinishedIndex = pos + 1_000_000
	if err := n.archive.WriteJobs(ctx, "", []consensus.Job{old}, 0); err != nil {
		t.Fatal(err)
	}

	got, err := c.Job(ctx, "old-job")
	if err != nil || got.Source != "archive" || got.State != "failed" || got.Error != "upstream said no" {
		t.Fatalf("GET old-job = %+v, %v; want it from the archive", got, err)
	}
	list, err := c.Jobs(ctx, client.JobQuery{WorkflowID: wfID})
	if err != nil || len(list.Jobs) != 4 || list.Jobs[3].ID != "old-job" || list.Jobs[3].Source != "archive" || list.Jobs[0].Source != "raft" {
		t.Fatalf("list = %+v, %v; want 3 raft jobs then old-job from the archive", list.Jobs, err)
	}
	logs, err := c.JobLogs(ctx, "old-job", consensus.MaxJobLogLines, 1000)
	if err != nil || len(logs.Lines) != 50 || logs.Lines[49].Message != fmt.Sprintf("line %d of a long run", consensus.MaxJobLogLines+49) {
		t.Fatalf("logs past Raft's window = %d lines, %v", len(logs.Lines), err)
	}
	found, err := c.Jobs(ctx, client.JobQuery{Text: "upstream"})
	if err != nil || len(found.Jobs) != 1 || found.Jobs[0].ID != "old-job" {
		t.Fatalf("search = %+v, %v", found.Jobs, err)
	}

	var wfs api.WorkflowList
	getJSON(t, c, "/api/v1/workflows?q=log", &wfs)
	if len(wfs.Workflows) != 1 || wfs.Workflows[0].ID != wfID {
		t.Fatalf("workflow search for a node type = %+v", wfs.Workflows)
	}
	getJSON(t, c, "/api/v1/workflows?q=nothing-like-this", &wfs)
	if len(wfs.Workflows) != 0 {
		t.Fatalf("workflow search for nothing = %+v", wfs.Workflows)
	}
	var stats archive.Stats
	getJSON(t, c, "/api/v1/stats", &stats)
	if len(stats.Workflows) != 1 || stats.Workflows[0].Runs != 4 || stats.Workflows[0].Succeeded != 3 || stats.Workflows[0].P95Seconds == nil {
		t.Fatalf("stats = %+v", stats)
	}
}

func getJSON(t *testing.T, c *client.Client, path string, v any) {
	t.Helper()
	if err := c.GetJSON(t.Context(), path, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

// chattyWorkflow logs far more lines than Raft keeps of a job.
const chattyWorkflow = `{"name":"chatty","nodes":[
 {"id":"start","type":"start"},
 {"id":"loop","type":"while","config":{"condition":"i < 600","index_var":"i","max_iterations":1000}},
 {"id":"say","type":"log","config":{"message":"chatty line {{ i }}"}},
 {"id":"wait","type":"delay","config":{"duration":"10ms"}}],
 "connections":[{"from":"start","to":"loop"},{"from":"loop","to":"say","port":"body"},{"from":"say","to":"wait"}]}`

func TestTheArchiveKeepsTheWholeLogOfALongJob(t *testing.T) {
	dbURL := archivetest.Database(t)
	cfg := testConfig(t, "chatty", "")
	cfg.ArchiveURL = dbURL
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	ctx := context.Background()
	res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "chatty", WorkflowJSON: json.RawMessage(chattyWorkflow), ExecutionMode: "lan",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, res.JobID, "succeeded", 2*time.Minute)
	testutil.Eventually(t, time.Minute, "the job to be archived", func() (bool, error) {
		_, ok := archiveRows(t, dbURL)[res.JobID]
		return ok, nil
	})
	// Raft kept the lines until the archive held them, then let them go.
	testutil.WaitFor(t, 10*time.Second, "raft to keep only the newest log lines", func() bool {
		j, _, _ := n.store.Job(res.JobID)
		return len(j.Logs) <= consensus.MaxJobLogLines
	})
	var lines []api.LogLine
	for offset := 0; ; {
		page, err := c.JobLogs(ctx, res.JobID, offset, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Lines) == 0 {
			break
		}
		lines = append(lines, page.Lines...)
		offset = page.NextOffset
	}
	var said []string
	for _, l := range lines {
		if strings.HasPrefix(l.Message, "chatty line ") {
			said = append(said, l.Message)
		}
	}
	if len(said) != 600 || said[0] != "chatty line 0" || said[599] != "chatty line 599" {
		t.Fatalf("the archive has %d of the job's 600 lines (of %d in all); first %q", len(said), len(lines), said[:min(1, len(said))])
	}
	for i, m := range said {
		if m != fmt.Sprintf("chatty line %d", i) {
			t.Fatalf("line %d is %q: lines out of order or doubled", i, m)
		}
	}
}
