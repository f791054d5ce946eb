package consensus

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// jobLayoutV1 is Job as it was before the run fields moved into JobRun:
// the layout of every snapshot and log entry written until then.
type jobLayoutV1 struct {
	ID              string            `json:"id"`
	WorkflowID      string            `json:"workflow_id"`
	WorkflowVersion int               `json:"workflow_version"`
	Params          json.RawMessage   `json:"params,omitempty"`
	SealedParams    *SealedParams     `json:"sealed_params,omitempty"`
	Priority        int               `json:"priority"`
	ExecutionMode   string            `json:"execution_mode"`
	RobotTags       []string          `json:"robot_tags,omitempty"`
	PinnedRobot     string            `json:"pinned_robot,omitempty"`
	State           JobState          `json:"state"`
	Attempt         int               `json:"attempt"`
	MaxAttempts     int               `json:"max_attempts"`
	RobotID         string            `json:"robot_id,omitempty"`
	Lease           *Lease            `json:"lease,omitempty"`
	Attempts        []Attempt         `json:"attempts,omitempty"`
	Checkpoint      json.RawMessage   `json:"checkpoint,omitempty"`
	Result          json.RawMessage   `json:"result,omitempty"`
	Error           string            `json:"error,omitempty"`
	FailureKind     string            `json:"failure_kind,omitempty"`
	Crashes         int               `json:"crashes,omitempty"`
	Backoff         Duration          `json:"backoff,omitempty"`
	AvoidRobot      string            `json:"avoid_robot,omitempty"`
	Logs            []LogLine         `json:"logs,omitempty"`
	LogsDropped     int               `json:"logs_dropped,omitempty"`
	LogsArchived    int               `json:"logs_archived,omitempty"`
	NodeStatus      map[string]string `json:"node_status,omitempty"`
	UniqueKey       string            `json:"unique_key,omitempty"`
	NotBefore       time.Time         `json:"not_before,omitzero"`
	Deadline        time.Time         `json:"deadline,omitzero"`
	ScheduleID      string            `json:"schedule_id,omitempty"`
	FireTime        time.Time         `json:"fire_time,omitzero"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
	StartedAt       time.Time         `json:"started_at,omitzero"`
	FinishedAt      time.Time         `json:"finished_at,omitzero"`
	RerunOf         string            `json:"rerun_of,omitempty"`
	Seq             uint64            `json:"seq"`
	FinishedIndex   uint64            `json:"finished_index,omitempty"`
	Debug           *JobDebug         `json:"debug,omitempty"`
	RobotLosses     int               `json:"robot_losses,omitempty"`
}

// fullJobV1 is a job in the old layout with every field set.
func fullJobV1(t *testing.T) jobLayoutV1 {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	j := jobLayoutV1{
		ID: "j1", WorkflowID: "w1", WorkflowVersion: 2, Params: json.RawMessage(`{"a":1}`),
		SealedParams: &SealedParams{KeyID: "k1", Ciphertext: []byte("sealed")},
		Priority:     3, ExecutionMode: "lan", RobotTags: []string{"sap"}, PinnedRobot: "r2",
		State: JobRunning, Attempt: 2, MaxAttempts: 5, RobotID: "r1",
		Lease:      &Lease{RobotID: "r1", Token: 9, ExpiresAt: at.Add(time.Minute), RenewedAt: at},
		Attempts:   []Attempt{{Attempt: 1, RobotID: "r1", StartedAt: at, FinishedAt: at, Outcome: "failed", Error: "x"}},
		Checkpoint: json.RawMessage(`{"node":"n2"}`), Result: json.RawMessage(`{"total":3}`),
		Error: "timeout", FailureKind: FailureApplication, Crashes: 1, Backoff: Duration(time.Second), AvoidRobot: "r3",
		Logs:        []LogLine{{Time: at, Level: "info", NodeID: "n1", Message: "hello"}},
		LogsDropped: 4, LogsArchived: 2, NodeStatus: map[string]string{"n1": "running"},
		UniqueKey: "u1", NotBefore: at.Add(time.Hour), Deadline: at.Add(2 * time.Hour), ScheduleID: "s1",
		FireTime: at.Add(-time.Hour), CreatedAt: at, UpdatedAt: at.Add(time.Second), StartedAt: at.Add(time.Second),
		FinishedAt: at.Add(time.Minute), RerunOf: "j0", Seq: 7, FinishedIndex: 11,
		Debug:       &JobDebug{Options: DebugOptions{Breakpoints: []string{"n1"}}, Seq: 1, Detached: "closed"},
		RobotLosses: 1,
	}
	v := reflect.ValueOf(j)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			t.Fatalf("fullJobV1 leaves %s zero: set every field, so that each one is checked", v.Type().Field(i).Name)
		}
	}
	return j
}

func decodeAny(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestJobJSONIsTheOldLayout checks that moving the run fields into
// JobRun changed nothing a snapshot, a log entry or a robot reads: a Job
// writes the same members as the old layout, reads the old layout's JSON
// into the same values, and writes it back unchanged.
func TestJobJSONIsTheOldLayout(t *testing.T) {
	old := fullJobV1(t)
	oldJSON := mustMarshal(t, old)
	var j Job
	if err := json.Unmarshal(oldJSON, &j); err != nil {
		t.Fatal(err)
	}
	newJSON := mustMarshal(t, j)
	if a, b := decodeAny(t, oldJSON), decodeAny(t, newJSON); !reflect.DeepEqual(a, b) {
		t.Fatalf("a Job read from the old layout writes different JSON\nold: %s\nnew: %s", oldJSON, newJSON)
	}
	var back jobLayoutV1
	if err := json.Unmarshal(newJSON, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, old) {
		t.Fatalf("the old layout reads a Job's JSON back as\n%+v\nnot\n%+v", back, old)
	}
}

// TestQueuedJobJSONIsByteIdentical checks that a queued job, the bulk of
// a snapshot, writes exactly the bytes of the old layout and reads back
// without a JobRun.
func TestQueuedJobJSONIsByteIdentical(t *testing.T) {
	old := fullJobV1(t)
	queued := jobLayoutV1{
		ID: old.ID, WorkflowID: old.WorkflowID, WorkflowVersion: 1, Params: old.Params, Priority: 1,
		ExecutionMode: "lan", RobotTags: old.RobotTags, State: JobQueued, MaxAttempts: 3,
		UniqueKey: old.UniqueKey, NotBefore: old.NotBefore, CreatedAt: old.CreatedAt, UpdatedAt: old.UpdatedAt, Seq: 1,
	}
	oldJSON := mustMarshal(t, queued)
	var j Job
	if err := json.Unmarshal(oldJSON, &j); err != nil {
		t.Fatal(err)
	}
	if j.JobRun != nil {
		t.Fatalf("a queued job read from JSON has a JobRun: %+v", *j.JobRun)
	}
	if newJSON := mustMarshal(t, j); !bytes.Equal(newJSON, oldJSON) {
		t.Fatalf("a queued job writes\n%s\nnot\n%s", newJSON, oldJSON)
	}
}

// TestSnapshotOfTheOldJobLayoutRestores restores a snapshot written by
// the old layout (testdata, from applyJobLifecycle before the change)
// and checks the state writes it back unchanged, and that the same
// commands applied now give the same snapshot.
func TestSnapshotOfTheOldJobLayoutRestores(t *testing.T) {
	old, err := os.ReadFile("testdata/snapshot-job-layout-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	f := newFSM()
	if err := f.Restore(io.NopCloser(bytes.NewReader(old))); err != nil {
		t.Fatal(err)
	}
	if a, b := decodeAny(t, old), decodeAny(t, snapshotBytes(t, f)); !reflect.DeepEqual(a, b) {
		t.Fatalf("the restored state writes a different snapshot\nold: %s\nnew: %s", old, snapshotBytes(t, f))
	}
	for id, wantRun := range map[string]bool{"j-queued": false, "j-options": true, "j-debug": true, "j-run": true, "j-ok": true, "j-retry": true, "j-cancel": true, "j-rerun": true} {
		j := f.state.jobs[id]
		if j == nil {
			t.Fatalf("job %s is missing after the restore", id)
		}
		if got := j.JobRun != nil; got != wantRun {
			t.Errorf("job %s (%s): has a JobRun %v, want %v", id, j.State, got, wantRun)
		}
	}
	h := newHarness(t)
	applyJobLifecycle(h)
	if a, b := decodeAny(t, old), decodeAny(t, snapshotBytes(t, h.f)); !reflect.DeepEqual(a, b) {
		t.Fatalf("the same commands give a different snapshot\nold: %s\nnew: %s", old, snapshotBytes(t, h.f))
	}
}

// TestQueuedJobStaysSmall keeps a queued job's struct within the 352-byte
// size class (it was 624 bytes, in the 640 class); it is 344 bytes now,
// with the copy-on-write generation.
func TestQueuedJobStaysSmall(t *testing.T) {
	if n := unsafe.Sizeof(Job{}); n > 352 {
		t.Fatalf("a Job is %d bytes; a queued job should cost at most 352 (move run-only fields into JobRun)", n)
	}
	h := newHarness(t)
	applyJobLifecycle(h)
	if j := h.f.state.jobs["j-queued"]; j.JobRun != nil {
		t.Fatalf("a job submitted without options has a JobRun while queued: %+v", *j.JobRun)
	}
}

// TestReadJobsDoNotShareRunFields checks that a job read from the state
// does not change when later entries change the job: its JobRun is a
// copy, not the state's.
func TestReadJobsDoNotShareRunFields(t *testing.T) {
	h := newHarness(t)
	applyJobLifecycle(h)
	q := JobQueue{Store: &Store{fsm: h.f}}
	before, found, _ := q.Job("j-run")
	if !found {
		t.Fatal("j-run not found")
	}
	lease := *before.Lease
	h.mustApply(cmdCompleteJobs, CompleteCmd{RobotID: "r1", Items: []Completion{{
		JobID: "j-run", Token: lease.Token, Succeeded: true, Result: json.RawMessage(`{"late":1}`),
		Logs: []LogLine{{Level: "info", Message: "bye"}},
	}}})
	if before.Lease == nil || *before.Lease != lease || before.Result != nil || len(before.Logs) != 1 || !before.FinishedAt.IsZero() {
		t.Fatalf("a job read before its completion changed with it: %+v", *before.JobRun)
	}
	if after, _, _ := q.Job("j-run"); after.State != JobSucceeded || len(after.Logs) != 2 {
		t.Fatalf("after the completion j-run is %s with %d lines", after.State, len(after.Logs))
	}
}
