package consensus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/hashicorp/raft"
)

// A backup is the FSM's snapshot encoding of the whole state, read at an
// index that covers every write acknowledged before the call, and this
// server's vault keys. A restore hands such a state to Raft's user
// restore on the leader: the leader installs it as a snapshot past the
// end of its log, and every follower, finding the hole, is sent that
// snapshot, so all servers end with the same state.

// Backup is what Store.Backup returns.
type Backup struct {
	Index     uint64
	State     []byte
	Counts    BackupCounts
	VaultKeys VaultKeys
	// RestoreRequest, when set, names the request for a restore of this
	// backup: a client that sends a restore again, because a leader
	// change hid the answer to the first, names both the same, and
	// Store.Restore does not restore it twice. The API derives it from
	// the request's Idempotency-Key and the file.
	RestoreRequest string
}

// BackupCounts summarises a state for a person comparing two of them.
type BackupCounts struct {
	Workflows        int `json:"workflows"`
	WorkflowVersions int `json:"workflow_versions"`
	Schedules        int `json:"schedules"`
	Jobs             int `json:"jobs"`
	QueuedJobs       int `json:"queued_jobs"`
	APITokens        int `json:"api_tokens"`
	RobotTokens      int `json:"robot_tokens"`
	Secrets          int `json:"secrets"`
}

// RestoreReport says what a restore replaced.
type RestoreReport struct {
	Before BackupCounts `json:"before"`
	After  BackupCounts `json:"after"`
	// Index is the Raft index the restored state is applied at.
	Index uint64 `json:"index"`
	// Repeated reports a restore whose RestoreRequest the state already
	// carried: an earlier try took effect, this one restored nothing
	// again, Before is not known, and Index is the index applied when
	// the repeat was answered.
	Repeated bool `json:"repeated,omitempty"`
}

// DefaultRestoreTimeout bounds the Raft restore when the caller's
// context has no deadline.
const DefaultRestoreTimeout = 2 * time.Minute

func (s *state) backupCounts() BackupCounts {
	c := BackupCounts{
		Workflows: len(s.workflows), Schedules: len(s.schedules), Jobs: len(s.jobs),
		QueuedJobs: s.counts.Queued, APITokens: len(s.apiTokens), RobotTokens: len(s.tokens),
		Secrets: len(s.secrets),
	}
	for _, wf := range s.workflows {
		c.WorkflowVersions += len(wf.Versions)
	}
	return c
}

// Backup encodes the whole state after catching up with every write
// acknowledged so far, so any server gives a consistent cut.
func (s *Store) Backup(ctx context.Context) (Backup, error) {
	if _, err := s.WaitConsistent(ctx); err != nil {
		return Backup{}, err
	}
	var b Backup
	ring := s.vault.snapshot()
	// A view, as a Raft snapshot takes one (snapshot.go): applies wait
	// for the capture and the key check (a walk over the jobs, no
	// encoding), not for the encoding.
	s.fsm.mu.Lock()
	if u, missing := s.fsm.state.snapshot().missingKey(ring); missing {
		s.fsm.mu.Unlock()
		return Backup{}, errorf(CodeConflict, "server %s lacks vault key %q that %s is sealed with, so a restore could not open it: save the snapshot on another server", s.cfg.Name, u.keyID, u.what)
	}
	view, err := s.fsm.capture()
	b.Index, b.Counts = s.fsm.applied, s.fsm.state.backupCounts()
	s.fsm.mu.Unlock()
	if err != nil {
		return Backup{}, err
	}
	defer view.close()
	var state bytes.Buffer
	if _, err := view.writeTo(&state); err != nil {
		return Backup{}, fmt.Errorf("encode state: %w", err)
	}
	b.State, b.VaultKeys = state.Bytes(), ring
	return b, nil
}

// decodeBackupState checks that data is a state this build can restore.
func decodeBackupState(data []byte) (snapshotData, BackupCounts, error) {
	var d snapshotData
	if err := json.Unmarshal(data, &d); err != nil {
		return d, BackupCounts{}, errorf(CodeInvalid, "snapshot state does not decode: %v", err)
	}
	st, err := restoreState(d)
	if err != nil {
		return d, BackupCounts{}, errorf(CodeInvalid, "snapshot state: %v", err)
	}
	return d, st.backupCounts(), nil
}

// Restore replaces the state of every server with the backup's. It runs
// on the leader only (CodeNotLeader elsewhere). It checks the state
// before anything changes, hands the backup's vault keys to every server
// (added to their rings, so secrets of either cluster open), keeps this
// cluster's own server addresses, and then restores through Raft. A
// backup whose RestoreRequest the state carries already is not restored
// again (RestoreReport.Repeated).
func (s *Store) Restore(ctx context.Context, b Backup) (RestoreReport, error) {
	if !s.IsLeader() {
		return RestoreReport{}, errorf(CodeNotLeader, "node %s is not the leader; a restore runs on the leader (%s)", s.cfg.Name, s.LeaderName())
	}
	if report, done, err := s.restoredAlready(ctx, b.RestoreRequest); done || err != nil {
		return report, err
	}
	d, _, err := decodeBackupState(b.State)
	if err != nil {
		return RestoreReport{}, err
	}
	if u, missing := d.missingKey(b.VaultKeys, s.vault.snapshot()); missing {
		return RestoreReport{}, errorf(CodeInvalid, "%s is sealed with vault key %q, which neither the snapshot nor server %s has, so it could not be opened after a restore (nothing restored): save the snapshot on a server that has the key", u.what, u.keyID, s.cfg.Name)
	}
	if len(b.VaultKeys.Keys) > 0 {
		if err := b.VaultKeys.check(); err != nil {
			return RestoreReport{}, errorf(CodeInvalid, "snapshot vault keys: %v", err)
		}
		servers, err := s.vaultServers()
		if err != nil {
			return RestoreReport{}, err
		}
		if len(servers) > 1 && s.cfg.VaultPusher == nil {
			return RestoreReport{}, errorf(CodeInternal, "this node cannot reach other servers' vault keys")
		}
		if err := s.pushKeys(ctx, servers, b.VaultKeys, false); err != nil {
			return RestoreReport{}, fmt.Errorf("hand the snapshot's vault keys to every server (nothing restored): %w", err)
		}
	}
	var report RestoreReport
	s.fsm.read(func(st *state) {
		report.Before = st.backupCounts()
		d.Nodes = maps.Clone(st.nodes) // the servers are this cluster's, not the backup's
	})
	// The restored jobs carry the indexes of the cluster they were saved
	// on, unrelated to this one's: a new id tells the archiver to stop
	// trusting its position and read the finished jobs again.
	d.RestoreID, d.RestoreRequest = newRequestID(), b.RestoreRequest
	data, err := encodeJSON(d)
	if err != nil {
		return RestoreReport{}, fmt.Errorf("encode state: %w", err)
	}
	timeout := DefaultRestoreTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	// Raft puts the snapshot after max(its last index, meta.Index), so
	// the restored state's own index stays below every entry that
	// follows it, on this cluster or on a node restarting from it.
	meta := &raft.SnapshotMeta{Version: raft.SnapshotVersionMax, Index: d.Applied, Size: int64(len(data))}
	if err := s.raft.Restore(meta, bytes.NewReader(data), timeout); err != nil {
		return RestoreReport{}, fmt.Errorf("raft restore: %w", err)
	}
	// The first entry after the hole moves every replica's applied index
	// past the snapshot, so reads waiting for it do not wait for traffic.
	if err := s.Noop(ctx); err != nil {
		return RestoreReport{}, fmt.Errorf("restored, but the entry after it failed: %w", err)
	}
	report.Index = s.fsm.read(func(st *state) { report.After = st.backupCounts() })
	return report, nil
}

// restoredAlready reports, as done, the restore request the state
// carries already: a try whose answer a leader change hid took effect,
// and restoring the same file again would throw away what was written
// since (jobs claimed since would be queued again, and run twice). The
// barrier first brings this leader's state up to every committed entry,
// a restore made under an earlier leader included; it fails on a node
// that is no longer the leader, whose state may be behind.
func (s *Store) restoredAlready(ctx context.Context, request string) (report RestoreReport, done bool, err error) {
	if request == "" {
		return RestoreReport{}, false, nil
	}
	if err := s.raft.Barrier(time.Until(deadline(ctx))).Error(); err != nil {
		return RestoreReport{}, false, fmt.Errorf("catch up before the restore (nothing restored): %w", err)
	}
	report.Index = s.fsm.read(func(st *state) {
		if done = st.restoreRequest == request; done {
			report.After = st.backupCounts()
		}
	})
	report.Repeated = done
	return report, done, nil
}

// check refuses a keyring whose keys are not AES-256 keys.
func (k VaultKeys) check() error {
	if _, ok := k.Keys[k.Current]; !ok {
		return fmt.Errorf("current key %q is not in the ring", k.Current)
	}
	for id, key := range k.Keys {
		if len(key) != vaultKeyBytes {
			return fmt.Errorf("key %q is %d bytes, not %d", id, len(key), vaultKeyBytes)
		}
	}
	return nil
}
