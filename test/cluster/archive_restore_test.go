//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/archive/archivetest"
)

// archivedIndexes reads id → raft_index of every archived job, and the
// archive's position.
func archivedIndexes(t *testing.T, url string) (map[string]int64, int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT id, raft_index FROM jobs`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var id string
		var idx int64
		if err := rows.Scan(&id, &idx); err != nil {
			t.Fatal(err)
		}
		out[id] = idx
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var pos int64
	if err := conn.QueryRow(ctx, `SELECT raft_index FROM position`).Scan(&pos); err != nil {
		t.Fatal(err)
	}
	return out, pos
}

// runNoops creates a no-op workflow on c and runs n jobs to the end, in
// batches of batch (one Raft entry each), and returns their ids. Nothing
// else may queue jobs meanwhile: it waits for the whole queue to drain.
func runNoops(t *testing.T, c *client.Client, n, batch int) []string {
	t.Helper()
	ctx := t.Context()
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: fmt.Sprintf("noop-%d", n), TriggerType: "none", ExecutionMode: "lan",
		WorkflowJSON: json.RawMessage(`{"name":"noop","nodes":[{"id":"start","type":"start"},{"id":"say","type":"log","config":{"message":"hi {{ job_id }}"}}],"connections":[{"from":"start","to":"say"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for len(ids) < n {
		req := make([]api.JobRequest, min(batch, n-len(ids)))
		for i := range req {
			req[i] = api.JobRequest{WorkflowID: wf.WorkflowID}
		}
		jobs, err := c.SubmitJobs(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
	}
	waitFor(t, drainTimeout, fmt.Sprintf("%d jobs to finish", n), func() (bool, error) {
		st, err := c.QueueStats(ctx)
		if err != nil {
			return false, err
		}
		left := st.ByState["queued"] + st.ByState["running"]
		return left == 0, fmt.Errorf("%d queued or running", left)
	})
	return ids
}

// waitArchived waits until the archive at url holds every one of ids.
func waitArchived(t *testing.T, url string, ids []string) map[string]int64 {
	t.Helper()
	var got map[string]int64
	waitFor(t, settleTimeout, fmt.Sprintf("%d jobs in the archive", len(ids)), func() (bool, error) {
		got, _ = archivedIndexes(t, url)
		for _, id := range ids {
			if _, ok := got[id]; !ok {
				return false, fmt.Errorf("job %s not archived (%d archived)", id, len(got))
			}
		}
		return true, nil
	})
	return got
}

// An operator restore brings finished jobs that carry the Raft indexes of
// the cluster they were saved on, here far below the position the fresh
// cluster's archive had reached. The archiver sees the restore, reads
// every finished job again, and each restored job is archived once, with
// the index it has in Raft; a second restore of the same file and jobs
// run after it double nothing.
func TestARestoreIntoAnArchivedClusterArchivesItsJobsOnce(t *testing.T) {
	ctx := t.Context()
	oldURL, freshURL := archivetest.Database(t), archivetest.Database(t)
	old := startCluster(t, 1, "--archive-url", oldURL)
	restored := runNoops(t, old.byName("n1").client, 20, 20)
	oldIdx := waitArchived(t, oldURL, restored)
	dir := t.TempDir()
	key, snap := filepath.Join(dir, "snap.key"), filepath.Join(dir, "old.snap")
	if res := runCLI(t, callTimeout, "operator", "snapshot", "keygen", key); res.code != 0 {
		t.Fatal(res)
	}
	if res := runCLI(t, settleTimeout, "operator", "snapshot", "save", snap, "--key-file", key,
		"--server", serverURL(old.byName("n1")), "--token-file", old.byName("n1").tokenFile); res.code != 0 {
		t.Fatal(res)
	}

	// The fresh cluster runs jobs one entry each, so that its archive's
	// position passes every index the restored jobs carry.
	fresh := startCluster(t, 1, "--archive-url", freshURL)
	f1 := fresh.byName("n1")
	own := runNoops(t, f1.client, 150, 1)
	waitArchived(t, freshURL, own)
	var highest int64
	for _, idx := range oldIdx {
		highest = max(highest, idx)
	}
	if _, pos := archivedIndexes(t, freshURL); pos <= highest {
		t.Fatalf("precondition: the fresh archive's position %d is not above the restored jobs' indexes (up to %d)", pos, highest)
	}

	// The first restore authenticates with the fresh cluster's admin
	// token; the restored state holds the old cluster's tokens after.
	if res := runCLI(t, settleTimeout, "operator", "snapshot", "restore", snap, "--key-file", key,
		"--server", serverURL(f1), "--token-file", f1.tokenFile); res.code != 0 {
		t.Fatalf("restore: %s", res)
	}
	got := waitArchived(t, freshURL, restored)
	for _, id := range restored {
		if got[id] != oldIdx[id] {
			t.Errorf("restored job %s archived at raft index %d, it finished at %d", id, got[id], oldIdx[id])
		}
	}

	// Again, over the jobs it archived: nothing doubles, and jobs run
	// after the restore are archived too.
	oldAdmin := client.New(serverURL(f1), client.WithTimeout(callTimeout), withTokenFile(old.byName("n1").tokenFile))
	if res := runCLI(t, settleTimeout, "operator", "snapshot", "restore", snap, "--key-file", key,
		"--server", serverURL(f1), "--token-file", old.byName("n1").tokenFile); res.code != 0 {
		t.Fatalf("second restore: %s", res)
	}
	after := runNoops(t, oldAdmin, 10, 10)
	got = waitArchived(t, freshURL, append(append([]string{}, restored...), after...))
	if want := len(own) + len(restored) + len(after); len(got) != want {
		t.Fatalf("the archive holds %d jobs, want %d (150 of the fresh cluster, 20 restored, 10 after)", len(got), want)
	}
	conn, err := pgx.Connect(ctx, freshURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var logged int
	if err := conn.QueryRow(ctx, `SELECT count(DISTINCT job_id) FROM job_logs`).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if logged != len(got) {
		t.Errorf("%d of %d archived jobs have their log in the archive", logged, len(got))
	}
}
