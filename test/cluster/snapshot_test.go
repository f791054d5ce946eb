//go:build unix

package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
)

// clusterContents is what a restore must carry over, read from one node.
type clusterContents struct {
	Workflows []string // name@version:checksum
	Schedules []string
	Queued    []string
	Tokens    []string // API token names
	Robots    []string // robot token names
}

func readContents(ctx context.Context, c *client.Client) (clusterContents, error) {
	var out clusterContents
	wfs, err := c.Workflows(ctx, client.Consistent())
	if err != nil {
		return out, err
	}
	for _, wf := range wfs.Workflows {
		vs, err := c.WorkflowVersions(ctx, wf.ID)
		if err != nil {
			return out, err
		}
		for _, v := range vs.Versions {
			out.Workflows = append(out.Workflows, fmt.Sprintf("%s@%d:%s", wf.Name, v.Version, v.Checksum))
		}
	}
	scs, err := c.Schedules(ctx, "")
	if err != nil {
		return out, err
	}
	for _, sc := range scs.Schedules {
		out.Schedules = append(out.Schedules, sc.ID+" "+sc.Cron)
	}
	for cursor := ""; ; {
		page, err := c.Jobs(ctx, client.JobQuery{State: "queued", Limit: 1000, Cursor: cursor})
		if err != nil {
			return out, err
		}
		for _, j := range page.Jobs {
			out.Queued = append(out.Queued, j.ID)
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			break
		}
		cursor = *page.NextCursor
	}
	toks, err := c.APITokens(ctx)
	if err != nil {
		return out, err
	}
	for _, tk := range toks.Tokens {
		out.Tokens = append(out.Tokens, tk.Name)
	}
	robots, err := c.RobotTokens(ctx)
	if err != nil {
		return out, err
	}
	for _, tk := range robots.Tokens {
		out.Robots = append(out.Robots, tk.Name)
	}
	for _, s := range [][]string{out.Workflows, out.Schedules, out.Queued, out.Tokens, out.Robots} {
		slices.Sort(s)
	}
	return out, nil
}

func TestSnapshotOfALoadedClusterRestoresIntoAFreshOne(t *testing.T) {
	ctx := t.Context()
	old := startCluster(t, 3)
	leader := old.leader()
	if err := leader.client.PauseQueue(ctx); err != nil { // the jobs stay queued: that is what is compared
		t.Fatal(err)
	}
	var wfID string
	for _, end := range []string{"a", "b"} {
		graph := fmt.Sprintf(`{"name":"invoices","nodes":[{"id":"start","type":"start"},{"id":%q,"type":"end"}],"connections":[{"from":"start","to":%q}]}`, end, end)
		res, err := leader.client.CreateWorkflow(ctx, wire.CreateWorkflowRequest{WorkflowName: "invoices", WorkflowJSON: json.RawMessage(graph), TriggerType: "none"})
		if err != nil {
			t.Fatal(err)
		}
		wfID = res.WorkflowID
	}
	if _, err := leader.client.CreateSchedule(ctx, wire.ScheduleRequest{WorkflowID: wfID, Cron: "0 3 * * *"}); err != nil {
		t.Fatal(err)
	}
	created, err := leader.client.CreateAPIToken(ctx, wire.CreateTokenRequest{Name: "ci-viewer", Role: "viewer"})
	if err != nil {
		t.Fatal(err)
	}
	createRobotToken(t, leader, "robot-1")
	if _, err := leader.client.SetSecret(ctx, "DB_PASSWORD", wire.PutSecretRequest{Value: "hunter2"}); err != nil {
		t.Fatal(err)
	}

	// Load: a writer keeps queueing jobs through a follower while the
	// snapshot is taken from the other follower.
	followers := old.others(leader)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var queued atomic.Int64
	var load sync.WaitGroup
	load.Go(func() {
		for i := 0; loadCtx.Err() == nil; i++ {
			if _, err := followers[0].client.SubmitJob(loadCtx, wire.JobRequest{WorkflowID: wfID}); err == nil {
				queued.Add(1)
			}
		}
	})
	waitFor(t, settleTimeout, "jobs queued under load", func() (bool, error) { return queued.Load() >= 50, nil })
	dir := t.TempDir()
	key, snap := filepath.Join(dir, "snap.key"), filepath.Join(dir, "old.snap")
	if res := runCLI(t, callTimeout, "operator", "snapshot", "keygen", key); res.code != 0 {
		t.Fatal(res)
	}
	res := runCLI(t, settleTimeout, "operator", "snapshot", "save", snap, "--key-file", key, "--server", serverURL(followers[1]), "--token-file", followers[1].tokenFile)
	stopLoad()
	load.Wait()
	if res.code != 0 || !strings.Contains(res.stdout, "saved "+snap) {
		t.Fatalf("save: %s", res)
	}
	// What the snapshot holds is the old cluster as it was when it was
	// read; the writer went on after, so read the file, not the cluster.
	inspect := runCLI(t, callTimeout, "operator", "snapshot", "inspect", snap, "--key-file", key, "-o", "json")
	var info wire.SnapshotInfo
	if inspect.code != 0 || json.Unmarshal([]byte(inspect.stdout), &info) != nil {
		t.Fatalf("inspect: %s", inspect)
	}
	if info.Counts.QueuedJobs < 50 || info.Counts.Workflows != 1 || info.Counts.WorkflowVersions != 2 || info.Counts.Schedules != 1 {
		t.Fatalf("the snapshot holds %+v", info.Counts)
	}
	// Stop the writer's stragglers from mattering: read the old cluster's
	// contents now and drop the jobs the snapshot cannot hold.
	want, err := readContents(ctx, leader.client)
	if err != nil {
		t.Fatal(err)
	}
	old.waitReplicated()

	// The new cluster's first server starts with the old cluster's CA,
	// so that what pinned the old CA trusts the new cluster.
	fresh := newCluster(t)
	m1 := fresh.add("m1", []string{"node", "start"})
	if res := runCLI(t, callTimeout, "operator", "snapshot", "ca", snap, "--key-file", key, "--data-dir", filepath.Join(m1.dir, "data")); res.code != 0 {
		t.Fatal(res)
	}
	fresh.setSeed(m1)
	m1.start()
	m1.waitReady()
	fresh.join("m2")
	fresh.join("m3")
	fresh.waitServers(3)
	newAdmin := fresh.byName("m1").tokenFile

	t.Run("a damaged or wrongly keyed file is refused and changes nothing", func(t *testing.T) {
		before, err := readContents(ctx, fresh.byName("m2").client)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(snap)
		if err != nil {
			t.Fatal(err)
		}
		damaged := filepath.Join(dir, "damaged.snap")
		data[len(data)/2] ^= 0x10
		os.WriteFile(damaged, data, 0o600)
		wrong := filepath.Join(dir, "wrong.key")
		runCLI(t, callTimeout, "operator", "snapshot", "keygen", wrong)
		for _, tc := range []struct{ file, key, says string }{{damaged, key, "corrupted"}, {snap, wrong, "another key"}} {
			res := runCLI(t, callTimeout, "operator", "snapshot", "restore", tc.file, "--key-file", tc.key, "--server", serverURL(fresh.byName("m2")), "--token-file", newAdmin)
			if res.code == 0 || !strings.Contains(res.stderr, tc.says) || !strings.Contains(res.stderr, "nothing changed") {
				t.Errorf("restore of %s with %s: %s", filepath.Base(tc.file), filepath.Base(tc.key), res)
			}
		}
		after, err := readContents(ctx, fresh.byName("m2").client)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("a refused restore changed the cluster:\n%v\n%v", before, after)
		}
	})

	// Restore through a follower of the fresh cluster: the CLI finds the leader.
	target := fresh.others(fresh.leader())[0]
	res = runCLI(t, settleTimeout, "operator", "snapshot", "restore", snap, "--key-file", key, "--server", serverURL(target), "--token-file", newAdmin)
	if res.code != 0 || !strings.Contains(res.stdout, "restored the state of "+followers[1].name) {
		t.Fatalf("restore: %s", res)
	}
	t.Logf("restore printed:\n%s", res.stdout)
	if strings.Contains(res.stdout, "is not this cluster's") {
		t.Errorf("the cluster rebuilt with the snapshot's CA has another CA: %s", res.stdout)
	}

	// The old cluster's tokens work on the new one, on every server, and
	// every server holds what the snapshot held.
	viewer := created.Token
	for _, n := range fresh.all() {
		oldAdmin := client.New(serverURL(n), client.WithTimeout(callTimeout), withTokenFile(old.byName("n1").tokenFile))
		var got clusterContents
		waitFor(t, settleTimeout, n.name+" to hold the restored state", func() (bool, error) {
			got, err = readContents(ctx, oldAdmin)
			return err == nil, err
		})
		if fmt.Sprint(got.Workflows, got.Schedules, got.Tokens, got.Robots) != fmt.Sprint(want.Workflows, want.Schedules, want.Tokens, want.Robots) {
			t.Errorf("%s holds\n%v\nwant\n%v", n.name, got, want)
		}
		if len(got.Queued) != info.Counts.QueuedJobs {
			t.Errorf("%s holds %d queued jobs, the snapshot %d", n.name, len(got.Queued), info.Counts.QueuedJobs)
		}
		for _, id := range got.Queued {
			if !slices.Contains(want.Queued, id) {
				t.Errorf("%s holds queued job %s the old cluster never had", n.name, id)
				break
			}
		}
		if _, err := client.New(serverURL(n), client.WithToken(viewer)).Workflows(ctx); err != nil {
			t.Errorf("%s refuses the old cluster's viewer token: %v", n.name, err)
		}
	}
	// The secret opens on a server of the new cluster: a key rotation
	// there re-encrypts it, which needs its value, with the old vault key
	// the restore handed to every server.
	rot := runCLI(t, callTimeout, "secrets", "rotate-key", "--server", serverURL(target), "--token-file", old.byName("n1").tokenFile)
	if rot.code != 0 || !strings.Contains(rot.stdout, "1 secrets re-encrypted") {
		t.Errorf("rotate-key on the new cluster: %s", rot)
	}
	if _, err := fresh.byName("m1").client.Workflows(ctx); !client.IsCode(err, "unauthenticated") {
		t.Errorf("the fresh cluster's own admin token, made before the restore, still works: %v", err)
	}
}
