package consensus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSubmitGroupsAreIndependent(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	res := h.mustApply(cmdSubmitGroups, SubmitGroupsCmd{Groups: [][]JobSpec{
		{{ID: "a1", WorkflowID: "w1", ExecutionMode: "lan"}, {ID: "a2", WorkflowID: "w1", ExecutionMode: "lan"}},
		{{ID: "b1", WorkflowID: "w1", ExecutionMode: "lan"}, {ID: "b2", WorkflowID: "nope", ExecutionMode: "lan"}},
		{{ID: "c1", WorkflowID: "w1", ExecutionMode: "lan", UniqueKey: "k"}},
		{{ID: "d1", WorkflowID: "w1", ExecutionMode: "lan", UniqueKey: "k"}},
	}}).(submitAnswer).full
	if len(res) != 4 {
		t.Fatalf("%d results for 4 groups", len(res))
	}
	if res[0].Error != nil || len(res[0].Jobs) != 2 {
		t.Fatalf("good group: %+v", res[0])
	}
	if res[1].Error == nil || res[1].Error.Code != CodeNotFound || h.f.state.jobs["b1"] != nil {
		t.Fatalf("bad group: %+v, partial apply %v", res[1], h.f.state.jobs["b1"] != nil)
	}
	// A later group in the same entry sees the earlier one, as if they
	// had been separate entries.
	if res[3].Error != nil || res[3].Jobs[0].ID != "c1" {
		t.Fatalf("unique key across groups: %+v", res[3])
	}
}

// TestConcurrentSubmitsThroughFollower submits from many goroutines at
// once through a follower, with a bad call mixed in: every good call
// gets its own jobs, the bad one its own error, and every job is on the
// leader.
func TestConcurrentSubmitsThroughFollower(t *testing.T) {
	ctx, leader, f := clusterWithWorkflow(t)
	before := leader.AppliedIndex()
	const calls = 200
	var wg sync.WaitGroup
	errs := make([]error, calls)
	jobs := make([][]Job, calls)
	for i := range calls {
		wg.Go(func() {
			wf := "w1"
			if i == 77 {
				wf = "missing"
			}
			specs := []JobSpec{{ID: fmt.Sprintf("j%d-a", i), WorkflowID: wf, ExecutionMode: "lan"}, {ID: fmt.Sprintf("j%d-b", i), WorkflowID: "w1", ExecutionMode: "lan"}}
			jobs[i], errs[i] = f.SubmitJobs(ctx, specs)
		})
	}
	wg.Wait()
	for i := range calls {
		if i == 77 {
			if !IsCode(errs[i], CodeNotFound) || len(jobs[i]) != 0 {
				t.Fatalf("bad call: jobs %v err %v", jobs[i], errs[i])
			}
			if _, ok, _ := leader.Job("j77-b"); ok {
				t.Fatal("the bad call's good job was queued")
			}
			continue
		}
		if errs[i] != nil || len(jobs[i]) != 2 || jobs[i][0].ID != fmt.Sprintf("j%d-a", i) || jobs[i][1].ID != fmt.Sprintf("j%d-b", i) {
			t.Fatalf("call %d: jobs %v err %v", i, jobs[i], errs[i])
		}
		if _, ok, _ := leader.Job(jobs[i][1].ID); !ok {
			t.Fatalf("acknowledged job %s missing on the leader", jobs[i][1].ID)
		}
	}
	t.Logf("%d submit calls took %d Raft entries", calls, leader.AppliedIndex()-before)
}

func TestSubmitCallerDeadlineLeavesOthersAlone(t *testing.T) {
	c := startCluster(t, 1)
	s := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a")}); err != nil {
		t.Fatal(err)
	}
	gone, stop := context.WithCancel(ctx)
	stop()
	if _, err := s.SubmitJobs(gone, []JobSpec{{ID: "x", WorkflowID: "w1", ExecutionMode: "lan"}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	if _, ok, _ := s.Job("x"); ok {
		t.Fatal("a caller cancelled before submitting queued its job")
	}
	jobs, err := s.SubmitJobs(ctx, []JobSpec{{ID: "y", WorkflowID: "w1", ExecutionMode: "lan"}})
	if err != nil || len(jobs) != 1 {
		t.Fatalf("next caller: %v %v", jobs, err)
	}
}

func TestSubmitAfterCloseFails(t *testing.T) {
	c := startCluster(t, 1)
	s := c.waitLeader(5 * time.Second)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := s.SubmitJobs(ctx, []JobSpec{{ID: "late", WorkflowID: "w1", ExecutionMode: "lan"}}); err == nil {
		t.Fatal("submit on a closed store succeeded")
	}
}

func TestMergedSubmitsStayUnderTheByteBound(t *testing.T) {
	big := make([]byte, 1536<<10) // 1.5 MiB of params per call
	b := newSubmitBatcher(context.Background(), nil, newTimings().forwardWait)
	queue := func(specs []JobSpec) *groupCall[[][]JobSpec, submitAnswer] {
		call := &groupCall[[][]JobSpec, submitAnswer]{in: [][]JobSpec{specs}}
		b.pending = append(b.pending, call)
		return call
	}
	for range 5 {
		queue([]JobSpec{{Params: big}})
	}
	queue(make([]JobSpec, 1))
	var sizes []int
	for len(b.pending) > 0 {
		batch := b.take()
		total := 0
		for _, c := range batch {
			_, size := weighGroups(c.in)
			total += size
		}
		if len(batch) > 1 && total > maxGroupBytes {
			t.Fatalf("a merged entry of %d calls carries %d bytes, over %d", len(batch), total, maxGroupBytes)
		}
		sizes = append(sizes, len(batch))
	}
	if fmt.Sprint(sizes) != "[2 2 2]" {
		t.Errorf("calls per entry %v, want [2 2 2]", sizes)
	}

	huge := queue([]JobSpec{{Params: make([]byte, 2*maxGroupBytes)}})
	queue(make([]JobSpec, 1))
	if batch := b.take(); len(batch) != 1 || batch[0] != huge {
		t.Errorf("a call over the bound should go alone, got %d calls", len(batch))
	}
}

// A follower applies a merged submit without building its results, which
// go to no one there; should a caller wait on it (the node appended the
// entry while leading), it gets a code it retries on, and the retry,
// applied where results are built, answers the jobs the first apply
// queued: none lost, none queued twice.
func TestFollowerAppliesSubmitsWithoutResults(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a")})
	cmd := SubmitGroupsCmd{Groups: [][]JobSpec{
		{{ID: "a1", WorkflowID: "w1", ExecutionMode: "lan"}, {ID: "a2", WorkflowID: "w1", ExecutionMode: "lan"}},
		{{ID: "b1", WorkflowID: "nope", ExecutionMode: "lan"}},
	}}
	entry := h.entry(cmdSubmitGroups, cmd)
	v, err, skipped := h.f.handlers.apply(h.f.state, applyContext{index: entry.Index, following: true}, entry.Data)
	if a, _ := v.(submitAnswer); skipped != nil || a.full != nil || a.brief != nil || !retryable(err) {
		t.Fatalf("follower's apply answered %v, %v (skipped %v), want no value and a retryable error", v, err, skipped)
	}
	if h.f.state.jobs["a1"] == nil || h.f.state.jobs["a2"] == nil || h.f.state.jobs["b1"] != nil || h.f.state.counts.Queued != 2 {
		t.Fatalf("follower's state: a1 %v a2 %v b1 %v, %d queued; want the good group queued alone",
			h.f.state.jobs["a1"] != nil, h.f.state.jobs["a2"] != nil, h.f.state.jobs["b1"] != nil, h.f.state.counts.Queued)
	}
	seq := h.f.state.jobs["a1"].Seq
	res := h.mustApply(cmdSubmitGroups, cmd).(submitAnswer).full
	if res[0].Error != nil || len(res[0].Jobs) != 2 || res[0].Jobs[0].Seq != seq || res[1].Error == nil {
		t.Fatalf("retry answered %+v, want the queued jobs and the bad group's error", res)
	}
	if h.f.state.counts.Queued != 2 {
		t.Fatalf("%d queued after the retry, want 2", h.f.state.counts.Queued)
	}
}
