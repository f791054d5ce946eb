package node

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/internal/testutil"
)

// inRaft counts how many of ids the node's replicated state still holds.
func inRaft(n *Node, ids []string) int {
	k := 0
	for _, id := range ids {
		if _, found, _ := n.Store().Job(id); found {
			k++
		}
	}
	return k
}

// submitted lists the ids of the jobs a node has finished.
func finishedIDs(t *testing.T, n *Node, want int) []string {
	t.Helper()
	var ids []string
	testutil.Eventually(t, 2*time.Minute, fmt.Sprintf("%d jobs to finish", want), func() (bool, error) {
		jobs, _, _ := n.Store().FinishedFrom(0, want+1)
		ids = ids[:0]
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
		return len(ids) == want, fmt.Errorf("%d finished", len(ids))
	})
	return ids
}

func TestRetentionRemovesFinishedJobsWithoutAnArchive(t *testing.T) {
	cfg := testConfig(t, "keeper", "")
	cfg.Retention = time.Second
	n := startNode(t, cfg)
	submitLoggers(t, adminClient(t, n, n), 50)
	ids := finishedIDs(t, n, 50)
	testutil.Eventually(t, time.Minute, "finished jobs to leave raft", func() (bool, error) {
		k := inRaft(n, ids)
		return k == 0, fmt.Errorf("%d still in raft", k)
	})
}

func TestRetentionWaitsForTheArchiveThenServesFromIt(t *testing.T) {
	dbURL := archivetest.Database(t)
	proxy := archivetest.NewProxy(t, dbURL)
	cfg := testConfig(t, "retainer", "")
	cfg.ArchiveURL = proxy.URL(dbURL)
	cfg.Retention = time.Second
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	ctx := context.Background()

	proxy.Cut() // jobs finish while the archive is away
	wfID := submitLoggers(t, c, 50)
	ids := finishedIDs(t, n, 50)
	// Well past the window: not archived, so still in Raft.
	time.Sleep(3 * time.Second) // the retention window must pass; nothing to poll for
	if k := inRaft(n, ids); k != 50 {
		t.Fatalf("%d of 50 unarchived jobs left raft", 50-k)
	}

	proxy.Restore()
	testutil.Eventually(t, time.Minute, "archived jobs to leave raft", func() (bool, error) {
		k := inRaft(n, ids)
		return k == 0, fmt.Errorf("%d still in raft", k)
	})
	if rows := archiveRows(t, dbURL); len(rows) != 50 {
		t.Fatalf("archive holds %d jobs, want 50", len(rows))
	}
	job, err := c.Job(ctx, ids[0])
	if err != nil || job.Source != "archive" || job.State != "succeeded" {
		t.Fatalf("GET a job that left raft = %+v, %v", job, err)
	}
	list, err := c.Jobs(ctx, client.JobQuery{WorkflowID: wfID, Limit: 30})
	if err != nil || len(list.Jobs) != 30 || list.NextCursor == nil || list.Jobs[0].Source != "archive" {
		t.Fatalf("first page = %d jobs, cursor %v, %v", len(list.Jobs), list.NextCursor, err)
	}
	rest, err := c.Jobs(ctx, client.JobQuery{WorkflowID: wfID, Limit: 30, Cursor: *list.NextCursor})
	if err != nil || len(rest.Jobs) != 20 {
		t.Fatalf("second page = %d jobs, %v; want the other 20", len(rest.Jobs), err)
	}
	seen := map[string]bool{}
	for _, j := range append(list.Jobs, rest.Jobs...) {
		if seen[j.ID] {
			t.Fatalf("job %s listed twice", j.ID)
		}
		seen[j.ID] = true
	}
}

func TestAnArchiveURLOnARobotOnlyNodeIsRefused(t *testing.T) {
	cfg := testConfig(t, "robot-only", "127.0.0.1:1")
	cfg.Server = false
	cfg.ArchiveURL = archivetest.DefaultURL
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Start(ctx, cfg)
	if err == nil {
		n.Close()
		t.Fatal("a robot-only node started with an archive URL")
	}
	if !strings.Contains(err.Error(), "robot-only") {
		t.Fatalf("error does not say why: %v", err)
	}
}
