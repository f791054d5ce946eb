package node

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// TestVaultRulesDeletionAndRotationUnderLoad checks on three servers that
// a job of a workflow the secret is not allowed for fails as a business
// failure naming the secret and the rule; that a key rotation while jobs
// run loses none of them, leaves every server holding only the new key
// and every ciphertext sealed under it; and that a deleted secret makes
// the next job that needs it fail clearly.
func TestVaultRulesDeletionAndRotationUnderLoad(t *testing.T) {
	n1 := startNode(t, testConfig(t, "r1", ""))
	n2 := startNode(t, joinConfig(t, "r2", n1))
	n3 := startNode(t, joinConfig(t, "r3", n2))
	nodes := []*Node{n1, n2, n3}
	ctx := context.Background()
	c := adminClient(t, n2, n1)
	srv := newPasswordServer(t)

	if _, err := c.SetSecret(ctx, "PW", wire.PutSecretRequest{Value: vaultValue, AllowedWorkflows: []string{"allowed-login"}}); err != nil {
		t.Fatalf("set secret: %v", err)
	}
	denied := createWorkflow(t, c, secretWorkflow("other-login", srv.URL), "lan")
	job := waitJob(t, c, denied.JobID, "failed", 30*time.Second)
	if job.FailureKind != "business" || !strings.Contains(job.Error, `may not use secret "PW"`) ||
		!strings.Contains(job.Error, "allowed-login") || !strings.Contains(job.Error, "other-login") {
		t.Fatalf("job of a workflow the secret is not allowed for: %s %q %q", job.State, job.FailureKind, job.Error)
	}
	if len(srv.received()) != 0 {
		t.Fatalf("the denied job reached the server: %q", srv.received())
	}

	allowed := createWorkflow(t, c, secretWorkflow("allowed-login", srv.URL), "lan")
	waitJob(t, c, allowed.JobID, "succeeded", 30*time.Second)
	oldRing, _ := n1.Store().VaultKeys()

	// Rotate while a stream of jobs runs.
	loadCtx, stopLoad := context.WithCancel(ctx)
	var load sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	load.Go(func() {
		for loadCtx.Err() == nil {
			j, err := c.SubmitJob(loadCtx, wire.JobRequest{WorkflowID: allowed.WorkflowID})
			if err != nil {
				continue
			}
			mu.Lock()
			ids = append(ids, j.ID)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // pace the load, not a synchronisation
		}
	})
	waitUntil(t, 20*time.Second, "jobs to be submitted before the rotation", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ids) >= 5
	})
	rot, err := adminClient(t, n3, n1).RotateVaultKey(ctx)
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	waitUntil(t, 20*time.Second, "jobs to be submitted after the rotation", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(ids) >= 15
	})
	stopLoad()
	load.Wait()
	if rot.Rotated != 1 {
		t.Fatalf("rotation re-encrypted %d secrets, want 1", rot.Rotated)
	}
	for _, id := range ids {
		waitJob(t, c, id, "succeeded", 30*time.Second)
	}
	for _, v := range srv.received() {
		if v != vaultValue {
			t.Fatalf("a job sent %q, not the secret", v)
		}
	}
	var newID string
	for _, n := range nodes {
		ring, _ := n.Store().VaultKeys()
		if _, still := ring.Keys[oldRing.Current]; still || len(ring.Keys) != 1 || ring.Current == oldRing.Current {
			t.Fatalf("%s keeps keys %v after the rotation (old %s)", n.cfg.Name, keyIDs(ring), oldRing.Current)
		}
		if newID != "" && ring.Current != newID {
			t.Fatalf("servers disagree on the new key: %s and %s", newID, ring.Current)
		}
		newID = ring.Current
		if err := n.Store().Snapshot(); err != nil {
			t.Fatalf("snapshot %s: %v", n.cfg.Name, err)
		}
		snap := latestSnapshot(t, n.cfg.DataDir)
		if strings.Contains(string(snap), oldRing.Current) || !strings.Contains(string(snap), `"key_id":"`+newID+`"`) {
			t.Fatalf("%s's snapshot still names the old key %s or lacks the new %s", n.cfg.Name, oldRing.Current, newID)
		}
	}
	t.Logf("%d jobs ran during the rotation from %s to %s", len(ids), oldRing.Current, newID)

	if err := c.DeleteSecret(ctx, "PW"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	after, err := c.SubmitJob(ctx, wire.JobRequest{WorkflowID: allowed.WorkflowID})
	if err != nil {
		t.Fatal(err)
	}
	job = waitJob(t, c, after.ID, "failed", 30*time.Second)
	if job.FailureKind != "business" || !strings.Contains(job.Error, `secret "PW" is not in the vault`) {
		t.Fatalf("job after the delete: %q %q", job.FailureKind, job.Error)
	}
}

func keyIDs(k consensus.VaultKeys) []string {
	var out []string
	for id := range k.Keys {
		out = append(out, id)
	}
	return out
}

// latestSnapshot returns the state file of the newest snapshot in dir.
func latestSnapshot(t *testing.T, dir string) []byte {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "snapshots", "*", "state.bin"))
	if err != nil || len(matches) == 0 {
		t.Fatalf("no snapshot in %s (%v)", dir, err)
	}
	slices.Sort(matches)
	b, err := os.ReadFile(matches[len(matches)-1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}
