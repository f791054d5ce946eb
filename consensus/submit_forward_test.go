package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/internal/testutil"
)

// Each call merged into an entry reads its own groups' outcomes from the
// entry's answer, brief or full, as if its groups had been alone.
func TestSplitGivesEachCallItsGroups(t *testing.T) {
	groups := briefSample()
	calls := [][][]JobSpec{groups[:1], groups[1:]}
	for name, cmd := range map[string]SubmitGroupsCmd{"brief": {Groups: groups, Brief: true}, "full": {Groups: groups}} {
		a := briefHarness(t).mustApply(cmdSubmitGroups, cmd).(submitAnswer)
		parts, err := a.split(calls)
		if err != nil || len(parts) != len(calls) {
			t.Fatalf("%s: split into %d parts: %v", name, len(parts), err)
		}
		whole, err := a.results(groups)
		if err != nil {
			t.Fatal(err)
		}
		var joined []GroupResult
		for i, p := range parts {
			if p.Error != nil {
				t.Fatalf("%s: part %d failed: %v", name, i, p.Error)
			}
			res, err := p.Value.results(calls[i])
			if err != nil {
				t.Fatalf("%s: part %d: %v", name, i, err)
			}
			joined = append(joined, res...)
		}
		if got, want := mustJSON(t, joined), mustJSON(t, whole); got != want {
			t.Errorf("%s: the parts answered\n%s\nthe whole\n%s", name, got, want)
		}
		if _, err := a.split(calls[:1]); err == nil {
			t.Errorf("%s: an answer split over fewer groups than it answers", name)
		}
	}
}

// A follower's submits, merged into the leader's entry after the leader
// decoded and encoded them again, are answered with the jobs the leader
// holds, field for field.
func TestForwardedSubmitsAnswerTheLeadersJobs(t *testing.T) {
	ctx, leader, f := clusterWithWorkflow(t)
	at := time.Date(2026, 11, 30, 16, 0, 0, 0, time.UTC)
	specs := []JobSpec{
		{ID: "a", WorkflowID: "w1", ExecutionMode: ModeLAN},
		{ID: "b", WorkflowID: "w1", Params: json.RawMessage(`{ "n": 1, "s": "x <y>" }`), Priority: 7,
			ExecutionMode: ModeAny, RobotTags: []string{"gpu"}, PinnedRobot: "r1", MaxAttempts: 5, Backoff: Duration(time.Minute),
			RerunOf: "old", UniqueKey: "u1", NotBefore: at, Deadline: at.Add(time.Hour), Debug: &DebugOptions{}},
		{ID: "a", WorkflowID: "w1", ExecutionMode: ModeInternet, Priority: 3},
	}
	jobs, err := f.SubmitJobs(ctx, specs)
	if err != nil || len(jobs) != len(specs) {
		t.Fatalf("submit through the follower: %d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		held, ok, _ := leader.Job(j.ID)
		if !ok {
			t.Fatalf("job %s is not on the leader", j.ID)
		}
		if got, want := jobJSON(t, j), jobJSON(t, held); got != want {
			t.Errorf("the follower answered\n%s\nthe leader holds\n%s", got, want)
		}
	}
}

// Submits a follower forwards share the leader's entries with the
// leader's own: held back while no entry may start, a local call and a
// forwarded one go out in the one entry the next call starts.
func TestLeaderMergesForwardedSubmitsWithItsOwn(t *testing.T) {
	ctx, leader, f := clusterWithWorkflow(t)
	b := leader.submits
	setInFlight := func(n int) {
		b.mu.Lock()
		b.maxInFlight = n
		b.mu.Unlock()
	}
	setInFlight(0)
	var wg sync.WaitGroup
	created := make([]time.Time, 3)
	errs := make([]error, 3)
	submit := func(i int, s *Store) {
		jobs, err := s.SubmitJobs(ctx, []JobSpec{{ID: fmt.Sprintf("j%d", i), WorkflowID: "w1", ExecutionMode: ModeLAN}})
		if errs[i] = err; err == nil {
			created[i] = jobs[0].CreatedAt
		}
	}
	wg.Go(func() { submit(0, leader) })
	wg.Go(func() { submit(1, f) })
	testutil.WaitFor(t, 10*time.Second, "a local and a forwarded submit held on the leader", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return len(b.pending) == 2
	})
	setInFlight(submitsInFlight)
	submit(2, leader)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
	}
	if !created[0].Equal(created[1]) || !created[1].Equal(created[2]) {
		t.Errorf("the jobs were created at %v: want one entry's time", created)
	}
}

// clusterWithWorkflow starts three stores with workflow w1 stored and
// returns a context bounding the test, the leader and a follower.
func clusterWithWorkflow(t *testing.T) (context.Context, *Store, *Store) {
	t.Helper()
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	leader := c.waitLeader(5 * time.Second)
	f := c.follower()
	if _, err := f.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	return ctx, leader, f
}

func jobJSON(t *testing.T, j Job) string {
	t.Helper()
	return mustJSON(t, struct {
		Job
		Params string `json:"params"`
	}{j, string(j.Params)})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
