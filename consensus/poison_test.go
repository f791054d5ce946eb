package consensus

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// poisonEntries are envelopes that no handler can apply: an unknown
// (newer) type, a payload that does not decode, a payload of the wrong
// shape, and a bare header fragment.
var poisonEntries = map[string][]byte{
	"unknown type":    append([]byte{200, 0, 0, 0, 0, 0, 0, 0, 0}, `{}`...),
	"undecodable":     append([]byte{byte(cmdSubmitJobs), 0, 0, 0, 0, 0, 0, 0, 0}, `{nope`...),
	"wrong shape":     append([]byte{byte(cmdPutWorkflow), 0, 0, 0, 0, 0, 0, 0, 0}, `{"id": 7}`...),
	"short envelope":  {byte(cmdNoop), 1, 2},
	"jobs not a list": append([]byte{byte(cmdSubmitJobs), 0, 0, 0, 0, 0, 0, 0, 0}, `{"jobs": "x"}`...),
}

// TestLeaderRefusesPoisonBeforeRaft sends each poison envelope down the
// forwarded-write path: the leader answers CodeInvalid and nothing is
// appended to the log.
func TestLeaderRefusesPoisonBeforeRaft(t *testing.T) {
	c := startCluster(t, 1)
	leader := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for name, buf := range poisonEntries {
		before := leader.raft.LastIndex()
		if _, err := leader.ApplyRaw(ctx, buf); !IsCode(err, CodeInvalid) {
			t.Fatalf("%s: ApplyRaw answered %v, want code %s", name, err, CodeInvalid)
		}
		if after := leader.raft.LastIndex(); after != before {
			t.Fatalf("%s: the refused command reached the log (last index %d -> %d)", name, before, after)
		}
	}
}

// TestCommittedPoisonIsSkippedOnEveryReplica writes garbage straight into
// the log, past the leader's check, as a node of another build could.
// Each replica skips it alike, the caller gets an error, later writes
// apply, and a replica restarted on its data dir replays the log past
// the entry.
func TestCommittedPoisonIsSkippedOnEveryReplica(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "before", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	for name, buf := range poisonEntries {
		f := leader.raft.Apply(buf, 5*time.Second)
		if err := f.Error(); err != nil {
			t.Fatalf("%s: append: %v", name, err)
		}
		res, ok := f.Response().(*applyResult)
		if !ok || !IsCode(res.err, CodeInvalid) {
			t.Fatalf("%s: FSM answered %#v, want a skipped entry with code %s", name, f.Response(), CodeInvalid)
		}
	}
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w2", Name: "after", Graph: graph("b")}); err != nil {
		t.Fatalf("write after the poison: %v", err)
	}
	want := waitSameState(t, c.stores, leader.AppliedIndex())

	c.restartReplaying(ctx, 2, leader.AppliedIndex(), want, "a log holding poison")
}

// restartReplaying closes store i, opens it again on its data dir, and
// checks that it replays its log to index and reaches the state want.
// what names the log in failures.
func (c *testCluster) restartReplaying(ctx context.Context, i int, index uint64, want []byte, what string) {
	t := c.t
	t.Helper()
	restarted := c.stores[i]
	cfg := restarted.cfg
	c.fwd.drop(restarted)
	if err := restarted.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.RaftBind = cfg.RaftAdvertise
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("restart over %s: %v", what, err)
	}
	t.Cleanup(func() { s.Close() })
	c.stores[i] = s
	if err := s.WaitApplied(ctx, index); err != nil {
		t.Fatalf("restarted replica does not replay %s: %v", what, err)
	}
	if got := snapshotOf(t, s); !bytes.Equal(got, want) {
		t.Fatalf("restarted replica differs:\n got %s\nwant %s", got, want)
	}
}

// waitSameState waits until every store has applied index, then checks
// their states are byte-equal and returns that state.
func waitSameState(t *testing.T, stores []*Store, index uint64) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var want []byte
	for _, s := range stores {
		if err := s.WaitApplied(ctx, index); err != nil {
			t.Fatalf("%s: %v", s.cfg.Name, err)
		}
		got := snapshotOf(t, s)
		if want == nil {
			want = got
		} else if !bytes.Equal(got, want) {
			t.Fatalf("%s differs from %s:\n%s\n%s", s.cfg.Name, stores[0].cfg.Name, got, want)
		}
	}
	return want
}

// snapshotOf renders a store's replicated state without the applied
// index, which differs while replicas catch up.
func snapshotOf(t testing.TB, s *Store) []byte {
	t.Helper()
	var data []byte
	var err error
	s.fsm.read(func(st *state) { data, err = encodeJSON(st.snapshot()) })
	if err != nil {
		t.Fatal(err)
	}
	return data
}
