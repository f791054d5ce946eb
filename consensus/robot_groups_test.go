package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// TestMergedClaimsSplitPerRobot: one entry of several robots' claims
// leases each robot only its own jobs, as separate entries would, and a
// bad claim fails alone. The answer leaves the graphs to the serving node.
func TestMergedClaimsSplitPerRobot(t *testing.T) {
	h := newQueueHarness(t)
	for i := range 5 {
		h.submit(fmt.Sprintf("j%d", i), 0)
	}
	parts := h.mustApply(cmdClaimGroups, ClaimGroupsCmd{Claims: []ClaimCmd{
		{RobotID: "r1", RobotKind: RobotInternet, Max: 2, RequestID: "a"},
		{RobotID: "", RobotKind: RobotInternet, Max: 1},
		{RobotID: "r2", RobotKind: RobotInternet, Max: 2, RequestID: "b"},
		{RobotID: "r1", RobotKind: RobotInternet, Max: 2, RequestID: "a"}, // a retry of r1's claim
	}}).(claimAnswer).full
	if len(parts) != 4 {
		t.Fatalf("%d parts for 4 claims", len(parts))
	}
	if parts[1].Error == nil || parts[1].Error.Code != CodeInvalid || parts[1].Value != nil {
		t.Errorf("a claim without a robot id: %+v, want its own invalid error", parts[1])
	}
	seen := map[string]string{}
	for i, robot := range map[int]string{0: "r1", 2: "r2"} {
		if parts[i].Error != nil || len(parts[i].Value) != 2 {
			t.Fatalf("%s's claim: %+v", robot, parts[i])
		}
		for _, c := range parts[i].Value {
			if c.Job.Lease.RobotID != robot || c.Job.Lease.Token != h.index || c.Graph != nil {
				t.Errorf("%s got %+v", robot, c.Job)
			}
			if other, dup := seen[c.Job.ID]; dup {
				t.Errorf("job %s leased to both %s and %s", c.Job.ID, other, robot)
			}
			seen[c.Job.ID] = robot
		}
	}
	// The retry in the same entry replays r1's jobs instead of leasing more.
	if parts[3].Error != nil || fmt.Sprint(jobIDs(parts[3].Value)) != fmt.Sprint(jobIDs(parts[0].Value)) {
		t.Errorf("retried claim got %v, want the first try's %v", jobIDs(parts[3].Value), jobIDs(parts[0].Value))
	}
}

func jobIDs(claimed []ClaimedJob) []string {
	var ids []string
	for _, c := range claimed {
		ids = append(ids, c.Job.ID)
	}
	return ids
}

// TestMergedReportsRefuseStaleTokensItemByItem: in one entry of several
// robots' heartbeats or completions, an item with a stale token is
// refused while the other items, of the same robot and of others,
// succeed; a completion applied twice finishes its job once.
func TestMergedReportsRefuseStaleTokensItemByItem(t *testing.T) {
	h := newQueueHarness(t)
	for _, id := range []string{"a1", "a2", "b1"} {
		h.submit(id, 0)
	}
	tokens := map[string]uint64{}
	for robot, n := range map[string]int{"ra": 2, "rb": 1} {
		for _, c := range h.claim(robot, n) {
			tokens[c.Job.ID] = c.Job.Lease.Token
		}
	}
	var raJobs, rbJobs []string
	for id, j := range h.f.state.jobs {
		if j.Lease.RobotID == "ra" {
			raJobs = append(raJobs, id)
		} else {
			rbJobs = append(rbJobs, id)
		}
	}
	stale, fresh, other := raJobs[0], raJobs[1], rbJobs[0]

	h.advance(time.Second)
	progress := h.mustApply(cmdRobotReports, RobotReportsCmd{Reports: []RobotReport{
		{Progress: &ProgressCmd{RobotID: "ra", Items: []Progress{{JobID: stale, Token: tokens[stale] - 1}, {JobID: fresh, Token: tokens[fresh], Checkpoint: []byte(`{"done":["x"]}`)}}}},
		{Progress: &ProgressCmd{RobotID: "rb", Items: []Progress{{JobID: other, Token: tokens[other]}}}},
		{},
	}}).([]Part[[]Ack])
	if acks := progress[0].Value; acks[0].OK || !acks[0].Stop || acks[1].OK != true || !acks[1].Deadline.Equal(h.now.Add(DefaultVisibilityTimeout)) {
		t.Errorf("ra's heartbeat acks %+v: want the stale item stopped and the other renewed", acks)
	}
	if acks := progress[1].Value; len(acks) != 1 || !acks[0].OK {
		t.Errorf("rb's heartbeat acks %+v", acks)
	}
	if progress[2].Error == nil || progress[2].Error.Code != CodeInvalid {
		t.Errorf("an empty report: %+v, want its own invalid error", progress[2])
	}
	if string(h.f.state.jobs[fresh].Checkpoint) != `{"done":["x"]}` || !h.f.state.jobs[stale].Lease.RenewedAt.Before(h.now) {
		t.Errorf("checkpoint %s, stale lease renewed at %v", h.f.state.jobs[fresh].Checkpoint, h.f.state.jobs[stale].Lease.RenewedAt)
	}

	// A heartbeat merged before a completion of the same job lands first:
	// its log lines are kept.
	completions := RobotReportsCmd{Reports: []RobotReport{
		{Complete: &CompleteCmd{RobotID: "ra", Items: []Completion{{JobID: stale, Token: tokens[stale] + 1, Succeeded: true}, {JobID: fresh, Token: tokens[fresh], Succeeded: true}}}},
		{Progress: &ProgressCmd{RobotID: "rb", Items: []Progress{{JobID: other, Token: tokens[other], Logs: []LogLine{{Message: "last words"}}}}}},
		{Complete: &CompleteCmd{RobotID: "rb", Items: []Completion{{JobID: other, Token: tokens[other], Succeeded: true}}}},
	}}
	done := h.mustApply(cmdRobotReports, completions).([]Part[[]Ack])
	if acks := done[0].Value; acks[0].OK || !acks[0].Stop || !acks[1].OK || acks[1].State != JobSucceeded {
		t.Errorf("ra's completion acks %+v", acks)
	}
	if acks := done[2].Value; !acks[0].OK || acks[0].State != JobSucceeded {
		t.Errorf("rb's completion acks %+v", acks)
	}
	if logs := h.f.state.jobs[other].Logs; len(logs) != 1 || logs[0].Message != "last words" {
		t.Errorf("the heartbeat merged ahead of the completion left logs %+v", logs)
	}
	if j := h.f.state.jobs[stale]; j.State != JobRunning {
		t.Errorf("the job completed with a stale token is %s", j.State)
	}
	// The same entry again (a retry after a leader change) finishes nothing twice.
	again := h.mustApply(cmdRobotReports, completions).([]Part[[]Ack])
	for i, part := range again {
		for _, ack := range part.Value {
			if ack.OK {
				t.Errorf("part %d: a second completion of %s was accepted", i, ack.JobID)
			}
		}
	}
	if n := len(h.f.state.jobs[fresh].Attempts); n != 1 {
		t.Errorf("%s has %d attempts", fresh, n)
	}
}

// TestHeartbeatsOfManyRobotsCostOneEntryPerInterval runs the heartbeats
// of many robots through a follower, each robot on its own ticker: the
// cluster writes one progress entry per interval, not one per robot, and
// every robot's acks are its own.
func TestHeartbeatsOfManyRobotsCostOneEntryPerInterval(t *testing.T) {
	const robots, interval, rounds = 20, 200 * time.Millisecond, 6
	c := startClusterWith(t, 3, func(cfg *Config) { cfg.ProgressInterval = interval })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	f := c.follower()
	if _, err := f.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	var specs []JobSpec
	for i := range robots {
		specs = append(specs, JobSpec{ID: fmt.Sprintf("j%02d", i), WorkflowID: "w1", ExecutionMode: "lan"})
	}
	if _, err := f.SubmitJobs(ctx, specs); err != nil {
		t.Fatal(err)
	}
	leases := make([]ClaimedJob, robots)
	var wg sync.WaitGroup
	for i := range robots {
		wg.Go(func() {
			got, err := f.Claim(ctx, ClaimCmd{RobotID: fmt.Sprintf("r%02d", i), RobotKind: RobotLAN, Max: 1})
			if err != nil || len(got) != 1 {
				t.Errorf("claim of r%02d: %v %v", i, got, err)
				return
			}
			leases[i] = got[0]
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	before := leader.AppliedEntries()
	start := time.Now()
	for i := range robots {
		wg.Go(func() {
			robot, lease := fmt.Sprintf("r%02d", i), leases[i].Job
			// Robots tick out of step, as real ones do.
			<-time.After(time.Duration(i) * interval / robots)
			tick := time.NewTicker(interval)
			defer tick.Stop()
			for round := range rounds {
				token := lease.Lease.Token
				if i == 7 && round == 2 {
					token-- // one stale item among many good ones
				}
				acks, err := f.Progress(ctx, ProgressCmd{RobotID: robot, Items: []Progress{{JobID: lease.ID, Token: token}}})
				switch {
				case err != nil || len(acks) != 1 || acks[0].JobID != lease.ID:
					t.Errorf("%s round %d: acks %+v err %v", robot, round, acks, err)
				case token != lease.Lease.Token && (acks[0].OK || !acks[0].Stop):
					t.Errorf("%s's stale heartbeat was accepted: %+v", robot, acks[0])
				// A heartbeat is held for the interval and, on a loaded
				// machine, behind an entry still committing: a bound of a
				// few intervals catches one held past its turn without
				// failing on a slow commit (413 ms was seen at 2 × 200 ms).
				case token == lease.Lease.Token && (!acks[0].OK || acks[0].Waited < 0 || acks[0].Waited > 5*interval):
					t.Errorf("%s round %d: ack %+v", robot, round, acks[0])
				}
				<-tick.C
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	testutil.WaitFor(t, 5*time.Second, "the leader to apply what the follower sent", func() bool {
		return leader.AppliedIndex() >= f.AppliedIndex()
	})
	after := leader.AppliedEntries()
	entries := after["robot_reports"] - before["robot_reports"]
	t.Logf("%d robots × %d heartbeats in %v took %d progress entries", robots, rounds, elapsed, entries)
	if single := after["progress"] - before["progress"]; single != 0 {
		t.Errorf("%d single-robot progress entries", single)
	}
	if limit := uint64(elapsed/interval) + 1; entries > limit || entries == 0 {
		t.Errorf("%d progress entries in %v, want at most one per %v interval (%d)", entries, elapsed, interval, limit)
	}
}

func TestEveryCommandTypeHasAName(t *testing.T) {
	for typ := range registry() {
		if _, ok := commandNames[typ]; !ok {
			t.Errorf("command type %d has no name in commandNames", typ)
		}
	}
}

// TestACompletionTakesTheHeldHeartbeatsWithIt: a completion does not
// wait out the heartbeat interval, and the heartbeat the node holds for
// the same job commits with it, first, so its log lines are kept.
func TestACompletionTakesTheHeldHeartbeatsWithIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, token, held := holdHeartbeat(t, ctx, "last words")
	start := time.Now()
	acks, err := s.Complete(ctx, CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: "j1", Token: token, Succeeded: true}}})
	if err != nil || len(acks) != 1 || !acks[0].OK {
		t.Fatalf("complete: %+v %v", acks, err)
	}
	if waited := time.Since(start); waited > heldInterval/2 {
		t.Errorf("the completion waited %v for the heartbeat interval", waited)
	}
	if hb := <-held; len(hb) != 1 || !hb[0].OK || hb[0].Waited <= 0 {
		t.Errorf("the held heartbeat's acks %+v, want accepted with the time it waited", hb)
	}
	if j, _, _ := s.Job("j1"); j.State != JobSucceeded || len(j.Logs) != 1 || j.Logs[0].Message != "last words" {
		t.Errorf("job %s with logs %+v, want succeeded with the held heartbeat's line", j.State, j.Logs)
	}
}

// TestReportWeightBoundsItsEncoding: a report weighs at least the bytes
// it encodes to, whatever its strings hold (escapes cost up to six bytes
// a byte, and every field a robot fills counts), so maxGroupBytes bounds
// the merged entry and one robot's odd report cannot push the entry that
// carries other robots' reports past the leader's limit on forwarded
// entries, failing them all.
func TestReportWeightBoundsItsEncoding(t *testing.T) {
	odd := strings.Repeat("\x01\"\\\xff\u2028a", 500)
	line := LogLine{Level: odd, NodeID: odd, Message: odd}
	status := map[string]string{odd: odd}
	debug := &DebugReport{Node: odd, Reason: odd, Vars: json.RawMessage(`{"v":1}`),
		Stack: []DebugFrame{{Workflow: odd, NodeID: odd}}, Detached: odd}
	reports := map[string]RobotReport{
		"progress": {Progress: &ProgressCmd{RobotID: odd, Items: []Progress{
			{JobID: odd, Token: math.MaxUint64, Checkpoint: json.RawMessage(`{"c":1}`), Logs: []LogLine{line, line}, LogsEnd: math.MaxInt,
				NodeStatus: status, Debug: debug},
		}}},
		"completion": {Complete: &CompleteCmd{RobotID: odd, Items: []Completion{
			{JobID: odd, Token: math.MaxUint64, Succeeded: true, Result: json.RawMessage(`{"r":1}`), Error: odd, FailureKind: odd,
				Checkpoint: json.RawMessage(`{"c":1}`), Logs: []LogLine{line}, LogsEnd: math.MaxInt, NodeStatus: status, Debug: debug},
		}}},
	}
	for name, r := range reports {
		enc, err := encodeJSON(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, weight := weighReport(reportCall{report: r}); weight < len(enc) {
			t.Errorf("a %s that encodes to %d bytes weighs %d", name, len(enc), weight)
		}
	}
}
