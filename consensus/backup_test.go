package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// pushFunc hands vault keys to another in-process store.
type pushFunc func(ctx context.Context, server NodeInfo, keys VaultKeys, replace bool) error

func (f pushFunc) PushVaultKeys(ctx context.Context, server NodeInfo, keys VaultKeys, replace bool) error {
	return f(ctx, server, keys, replace)
}

// startVaultCluster starts n stores that hand each other vault keys.
func startVaultCluster(t *testing.T, n int) *testCluster {
	t.Helper()
	var c *testCluster
	push := pushFunc(func(ctx context.Context, server NodeInfo, keys VaultKeys, replace bool) error {
		s, err := c.fwd.get(ctx, server)
		if err != nil {
			return err
		}
		return s.InstallVaultKeys(keys, replace)
	})
	c = startClusterWith(t, n, func(cfg *Config) { cfg.VaultPusher = push })
	// A node that joins installs the keyring its join response carries.
	keys, _ := c.stores[0].VaultKeys()
	for _, s := range c.stores[1:] {
		if err := s.InstallVaultKeys(keys, false); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// comparable renders a store's state without what a restore keeps of
// the cluster it lands in (its servers), the index it was read at and
// the id the restore gave it.
func comparableState(t *testing.T, s *Store) string {
	t.Helper()
	var data []byte
	var err error
	s.fsm.read(func(st *state) {
		d := st.snapshot()
		d.Nodes, d.RestoreID = nil, ""
		data, err = encodeJSON(d)
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func comparableBackup(t *testing.T, b Backup) string {
	t.Helper()
	var d snapshotData
	if err := json.Unmarshal(b.State, &d); err != nil {
		t.Fatal(err)
	}
	d.Nodes, d.Applied, d.RestoreID = nil, 0, ""
	data, err := encodeJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestBackupUnderLoadRestoresIntoAFreshCluster(t *testing.T) {
	ctx := t.Context()
	old := startVaultCluster(t, 3)
	leader := old.waitLeader(5 * time.Second)
	for i, name := range []string{"invoices", "reports"} {
		for v := range 2 {
			if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: fmt.Sprintf("w%d", i), Name: name, Graph: graph(fmt.Sprintf("%s-v%d", name, v))}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := leader.CreateSchedule(ctx, Schedule{ID: "nightly", WorkflowID: "w0", Cron: "0 3 * * *", Timezone: "UTC", Enabled: true, Misfire: MisfireSkip, Overlap: OverlapAllow}); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.CreateToken(ctx, CreateTokenCmd{ID: "rt1", Name: "robot-1", Hash: HashToken("robot secret")}); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.CreateAPIToken(ctx, CreateAPITokenCmd{ID: "admin1", Name: "old admin", Role: RoleAdmin, Kind: KindToken, Hash: HashToken("old secret")}); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.SetSecret(ctx, "db_password", []byte("hunter2"), nil, "test"); err != nil {
		t.Fatal(err)
	}

	// Load: jobs keep coming through a follower while the backup is read.
	follower := old.follower()
	loadCtx, stopLoad := context.WithCancel(ctx)
	var submitted atomic.Int64
	var load sync.WaitGroup
	load.Go(func() {
		for i := 0; loadCtx.Err() == nil; i++ {
			if _, err := follower.SubmitJobs(loadCtx, []JobSpec{{ID: fmt.Sprintf("j%d", i), WorkflowID: "w1", ExecutionMode: ModeAny}}); err == nil {
				submitted.Add(1)
			}
		}
	})
	testutil.WaitFor(t, 10*time.Second, "jobs under load", func() bool { return submitted.Load() >= 20 })
	b, err := follower.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stopLoad()
	load.Wait()
	if b.Counts.Workflows != 2 || b.Counts.WorkflowVersions != 4 || b.Counts.Schedules != 1 || b.Counts.QueuedJobs < 20 || b.Counts.RobotTokens != 1 || b.Counts.Secrets != 1 {
		t.Fatalf("backup counts %+v", b.Counts)
	}
	if _, ok := b.VaultKeys.Keys[b.VaultKeys.Current]; !ok {
		t.Fatalf("backup lacks the vault key: %+v", b.VaultKeys)
	}

	fresh := startVaultCluster(t, 3)
	newLeader := fresh.waitLeader(5 * time.Second)
	if _, err := newLeader.PutWorkflow(ctx, PutWorkflowCmd{ID: "other", Name: "replaced", Graph: graph("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.follower().Restore(ctx, b); !IsCode(err, CodeNotLeader) {
		t.Fatalf("restore on a follower: %v, want not_leader", err)
	}
	report, err := newLeader.Restore(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if report.Before.Workflows != 1 || report.After != b.Counts {
		t.Errorf("report %+v, want before 1 workflow, after %+v", report, b.Counts)
	}
	want := comparableBackup(t, b)
	for _, s := range fresh.stores {
		testutil.WaitFor(t, 10*time.Second, s.cfg.Name+" to hold the restored state", func() bool {
			return s.AppliedIndex() >= report.Index && comparableState(t, s) == want
		})
		if _, err := s.Authenticate("admin1", "old secret", time.Now(), KindToken); err != nil {
			t.Errorf("%s: the old cluster's API token: %v", s.cfg.Name, err)
		}
		if v, err := s.OpenSecret("db_password"); err != nil || string(v) != "hunter2" {
			t.Errorf("%s: the old cluster's secret opens to %q, %v", s.cfg.Name, v, err)
		}
		if _, ok := s.node(s.cfg.Name); !ok {
			t.Errorf("%s: the restore dropped this cluster's own server address", s.cfg.Name)
		}
	}
	// The restored cluster keeps working, with every replica in step.
	if _, err := fresh.follower().SubmitJobs(ctx, []JobSpec{{ID: "after-restore", WorkflowID: "w1", ExecutionMode: ModeAny}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range fresh.stores {
		if _, err := s.WaitConsistent(ctx); err != nil {
			t.Fatal(err)
		}
		if _, found, _ := s.Job("after-restore"); !found {
			t.Errorf("%s lacks the job written after the restore", s.cfg.Name)
		}
	}

	// A server restarted after the restore starts from the restored
	// snapshot, whose state carries the old cluster's lower index, and
	// catches up to the entries after it.
	f := fresh.follower()
	cfg := f.cfg
	f.Close()
	fresh.fwd.drop(f)
	cfg.RaftBind, cfg.Bootstrap = cfg.RaftAdvertise, false
	again, err := Open(cfg)
	if err != nil {
		t.Fatalf("reopen %s: %v", cfg.Name, err)
	}
	t.Cleanup(func() { again.Close() })
	fresh.fwd.mu.Lock()
	fresh.fwd.stores[cfg.HTTPAddr] = again
	fresh.fwd.mu.Unlock()
	testutil.WaitFor(t, 20*time.Second, cfg.Name+" to catch up after its restart", func() bool {
		behind, _, _ := again.CatchingUp()
		return !behind
	})
	if _, err := newLeader.SubmitJobs(ctx, []JobSpec{{ID: "after-restart", WorkflowID: "w1", ExecutionMode: ModeAny}}); err != nil {
		t.Fatal(err)
	}
	if _, err := again.WaitConsistent(ctx); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"j0", "after-restore", "after-restart"} {
		if _, found, _ := again.Job(id); !found {
			t.Errorf("%s lacks job %s after its restart", cfg.Name, id)
		}
	}
	if again.AppliedIndex() < report.Index {
		t.Errorf("%s applied index %d after its restart is below the restore's %d", cfg.Name, again.AppliedIndex(), report.Index)
	}
}

func TestRestoreRefusesABadStateAndChangesNothing(t *testing.T) {
	ctx := t.Context()
	c := startVaultCluster(t, 1)
	leader := c.waitLeader(5 * time.Second)
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "kept", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	before, ring := comparableState(t, leader), leader.vault.snapshot()
	for name, b := range map[string]Backup{
		"not json":       {State: []byte("{not json")},
		"future version": {State: []byte(`{"version":99}`)},
		"bad vault key":  {State: []byte(`{"version":1}`), VaultKeys: VaultKeys{Current: "k", Keys: map[string][]byte{"k": []byte("short")}}},
	} {
		if _, err := leader.Restore(ctx, b); !IsCode(err, CodeInvalid) {
			t.Errorf("%s: restore answered %v, want invalid", name, err)
		}
	}
	if after := comparableState(t, leader); after != before {
		t.Errorf("a refused restore changed the state:\n%s\n%s", before, after)
	}
	if got := leader.vault.snapshot(); len(got.Keys) != len(ring.Keys) || got.Current != ring.Current {
		t.Errorf("a refused restore changed the vault keys: %+v", got)
	}
}

// A job's or a schedule's params sealed under a vault key that neither
// the snapshot nor the server has could never be opened for a robot:
// such a restore is refused, naming the key and what is sealed with it,
// and nothing changes. Save refuses the same state.
func TestRestoreRefusesParamsSealedUnderAnUnknownKey(t *testing.T) {
	ctx := t.Context()
	c := startVaultCluster(t, 1)
	leader := c.waitLeader(5 * time.Second)
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "kept", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.SubmitJobs(ctx, []JobSpec{{ID: "j1", WorkflowID: "w1", ExecutionMode: ModeAny}}); err != nil {
		t.Fatal(err)
	}
	b, err := leader.Backup(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sealedWith := func(keyID string, edit func(d *snapshotData, sp *SealedParams)) Backup {
		var d snapshotData
		if err := json.Unmarshal(b.State, &d); err != nil {
			t.Fatal(err)
		}
		edit(&d, &SealedParams{KeyID: keyID, Ciphertext: []byte("sealed elsewhere")})
		data, err := encodeJSON(d)
		if err != nil {
			t.Fatal(err)
		}
		return Backup{State: data, VaultKeys: b.VaultKeys}
	}
	onJob := func(d *snapshotData, sp *SealedParams) { d.Jobs[0].SealedParams = sp }
	onSchedule := func(d *snapshotData, sp *SealedParams) {
		d.Schedules = map[string]*Schedule{"s1": {ID: "s1", WorkflowID: "w1", Cron: "0 3 * * *", Template: JobTemplate{SealedParams: sp}}}
	}
	before, ring := comparableState(t, leader), leader.vault.snapshot()
	for name, tc := range map[string]struct {
		b    Backup
		says string
	}{
		"job":      {sealedWith("gone", onJob), `the params of job j1 is sealed with vault key "gone"`},
		"schedule": {sealedWith("gone", onSchedule), `the params of schedule s1 is sealed with vault key "gone"`},
	} {
		_, err := leader.Restore(ctx, tc.b)
		if !IsCode(err, CodeInvalid) || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "nothing restored") {
			t.Errorf("%s: restore answered %v, want invalid saying %q", name, err, tc.says)
		}
	}
	if after := comparableState(t, leader); after != before {
		t.Errorf("a refused restore changed the state:\n%s\n%s", before, after)
	}
	if got := leader.vault.snapshot(); len(got.Keys) != len(ring.Keys) || got.Current != ring.Current {
		t.Errorf("a refused restore changed the vault keys: %+v", got)
	}
	// Params sealed under a key the snapshot carries restore; a server
	// that then loses that key refuses to save the state.
	withKey := sealedWith("k-snap", onJob)
	withKey.VaultKeys = VaultKeys{Current: ring.Current, Keys: maps.Clone(ring.Keys)}
	withKey.VaultKeys.Keys["k-snap"] = make([]byte, vaultKeyBytes)
	if _, err := leader.Restore(ctx, withKey); err != nil {
		t.Fatalf("restore with params sealed under the snapshot's key: %v", err)
	}
	if err := leader.InstallVaultKeys(ring, true); err != nil {
		t.Fatal(err)
	}
	if _, err := leader.Backup(ctx); !IsCode(err, CodeConflict) || !strings.Contains(err.Error(), `"k-snap" that the params of job j1`) {
		t.Fatalf("save of params sealed under a lost key answered %v", err)
	}
}
