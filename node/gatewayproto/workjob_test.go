package gatewayproto

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

// claimedForTest is a claimed job as the leader answers it, with every
// field a robot reads set and the leader's bookkeeping besides.
func claimedForTest(id string, token uint64) consensus.ClaimedJob {
	now := time.Date(2026, 12, 2, 7, 38, 2, 329438736, time.UTC)
	return consensus.ClaimedJob{
		Job: consensus.Job{
			ID: id, WorkflowID: "01a235b0-628b-75b2-a883-698d1ee55fe9", WorkflowVersion: 1,
			Priority: 5, ExecutionMode: consensus.RobotInternet, State: consensus.JobRunning, Attempt: 1, MaxAttempts: 3,
			CreatedAt: now, UpdatedAt: now, Seq: 3283,
			JobRun: &consensus.JobRun{
				RobotID: "pc-05", Lease: &consensus.Lease{RobotID: "pc-05", Token: token, ExpiresAt: now.Add(30 * time.Second), RenewedAt: now},
				Attempts: []consensus.Attempt{{Attempt: 1, RobotID: "pc-05", StartedAt: now}}, StartedAt: now,
			},
		},
	}
}

// A compact job carries, through JSON, every field of a claimed job that
// a robot reads, and nothing of the leader's bookkeeping.
func TestWorkJobCarriesWhatRobotsRead(t *testing.T) {
	full := claimedForTest("01a235b0-6300-7268-8ca4-ec44610c1f20", 438)
	full.Job.Params = json.RawMessage(`{"invoice":"INV-7"}`)
	full.Job.Checkpoint = json.RawMessage(`{"node":"n2","variables":{"x":1}}`)
	full.Job.Debug = &consensus.JobDebug{Options: consensus.DebugOptions{Breakpoints: []string{"n2"}, PauseTimeout: consensus.Duration(time.Minute)}, Seq: 4}
	full.Graph = json.RawMessage(`{"nodes":[]}`)
	full.Secrets = map[string]string{"erp": "s3cret"}
	full.SecretError, full.SecretErrorKind = "secret erp is deleted", "secret"

	body, err := json.Marshal(WorkAnswer{Compact: []WorkJob{WorkJobOf(full)}})
	if err != nil {
		t.Fatal(err)
	}
	var ans WorkAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		t.Fatal(err)
	}
	got := ans.Claimed()
	if len(got) != 1 {
		t.Fatalf("%d jobs from %s, want 1", len(got), body)
	}
	g, w := got[0], full
	for _, f := range []struct {
		name      string
		got, want any
	}{
		{"id", g.Job.ID, w.Job.ID},
		{"workflow id", g.Job.WorkflowID, w.Job.WorkflowID},
		{"workflow version", g.Job.WorkflowVersion, w.Job.WorkflowVersion},
		{"params", string(g.Job.Params), string(w.Job.Params)},
		{"attempt", g.Job.Attempt, w.Job.Attempt},
		{"lease token", g.Job.Lease.Token, w.Job.Lease.Token},
		{"checkpoint", string(g.Job.Checkpoint), string(w.Job.Checkpoint)},
		{"debug options", g.Job.Debug.Options, w.Job.Debug.Options},
		{"graph", string(g.Graph), string(w.Graph)},
		{"secrets", g.Secrets, w.Secrets},
		{"secret error", g.SecretError, w.SecretError},
		{"secret error kind", g.SecretErrorKind, w.SecretErrorKind},
	} {
		if !reflect.DeepEqual(f.got, f.want) {
			t.Errorf("%s: got %v, want %v (from %s)", f.name, f.got, f.want, body)
		}
	}
	// Every field of WorkJob is filled from a job that has it, and comes
	// back through Claimed.
	compact := WorkJobOf(full)
	fields := reflect.ValueOf(compact)
	for i := range fields.NumField() {
		if fields.Field(i).IsZero() {
			t.Errorf("WorkJobOf leaves %s empty", fields.Type().Field(i).Name)
		}
	}
	if again := WorkJobOf(got[0]); !reflect.DeepEqual(again, compact) {
		t.Errorf("through Claimed, %+v came back as %+v", compact, again)
	}
	var raw struct {
		Compact []map[string]json.RawMessage `json:"compact"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Compact) != 1 {
		t.Fatalf("%s: %v", body, err)
	}
	for _, bookkeeping := range []string{"state", "priority", "seq", "created_at", "updated_at", "attempts", "lease", "robot_id"} {
		if _, ok := raw.Compact[0][bookkeeping]; ok {
			t.Errorf("the compact job carries %q: %s", bookkeeping, body)
		}
	}
}

// The answer a two-slot robot gets most often, two no-op jobs and the
// acks of the two it finished, fits one QUIC packet (quic-go's packets
// start at 1,280 bytes, headers and the frame's envelope included); as
// whole jobs it took 1,423 bytes, two packets and an acknowledgement.
func TestTwoCompactJobsFitOnePacket(t *testing.T) {
	acks := []consensus.Ack{
		{JobID: "01a235b0-62ff-7ca1-80a7-167216b0edc0", OK: true, State: consensus.JobSucceeded},
		{JobID: "01a235b0-62ff-7edb-8bf6-06ab0330289d", OK: true, State: consensus.JobSucceeded},
	}
	jobs := []consensus.ClaimedJob{claimedForTest("01a235b0-6300-7268-8ca4-ec44610c1f20", 438), claimedForTest("01a235b0-6300-7269-bb75-a20662052096", 438)}
	full, _ := json.Marshal(WorkAnswer{Jobs: jobs, Acks: acks})
	compact := WorkAnswer{Acks: acks}
	for _, j := range jobs {
		compact.Compact = append(compact.Compact, WorkJobOf(j))
	}
	body, _ := json.Marshal(compact)
	t.Logf("two jobs and two acks: %d bytes whole, %d compact", len(full), len(body))
	if len(body) > 1000 {
		t.Fatalf("two compact jobs and two acks take %d bytes, want at most 1,000: %s", len(body), body)
	}
}

// A robot reads whole jobs from a node that predates compact answers.
func TestWorkAnswerClaimedReadsWholeJobs(t *testing.T) {
	whole := claimedForTest("j1", 7)
	got := WorkAnswer{Jobs: []consensus.ClaimedJob{whole}}.Claimed()
	if len(got) != 1 || !reflect.DeepEqual(got[0], whole) {
		t.Fatalf("claimed %+v, want the whole job as sent", got)
	}
}
