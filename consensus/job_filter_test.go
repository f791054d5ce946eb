package consensus

import (
	"fmt"
	"testing"
	"time"
)

// storeOver serves Store reads from a harness's FSM.
func storeOver(h *fsmHarness) *Store { return newStore(Config{}, nil, h.f) }

// Each filter selects what it names, alone and combined.
func TestJobFilters(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w2", Name: "b", Graph: graph("b")})
	start := h.now
	h.submit("j1", 0)
	h.advance(time.Minute)
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "j2", WorkflowID: "w2", ExecutionMode: "any", ScheduleID: "s1"}}})
	h.advance(time.Minute)
	h.submit("j3", 0)
	h.claim("r1", 1) // j1 runs on r1
	s := storeOver(h)
	ids := func(f JobFilter) string {
		jobs, _, _ := s.Jobs(f)
		out := ""
		for _, j := range jobs {
			out += j.ID + " "
		}
		return out
	}
	for _, c := range []struct {
		f    JobFilter
		want string
	}{
		{JobFilter{}, "j3 j2 j1 "},
		{JobFilter{State: JobRunning}, "j1 "},
		{JobFilter{State: JobQueued}, "j3 j2 "},
		{JobFilter{WorkflowID: "w2"}, "j2 "},
		{JobFilter{RobotID: "r1"}, "j1 "},
		{JobFilter{RobotID: "r2"}, ""},
		{JobFilter{ScheduleID: "s1"}, "j2 "},
		{JobFilter{CreatedAfter: start.Add(30 * time.Second)}, "j3 j2 "},
		{JobFilter{CreatedBefore: start.Add(90 * time.Second)}, "j2 j1 "},
		{JobFilter{CreatedAfter: start.Add(30 * time.Second), CreatedBefore: start.Add(90 * time.Second)}, "j2 "},
		{JobFilter{State: JobQueued, WorkflowID: "w1"}, "j3 "},
		{JobFilter{State: JobRunning, RobotID: "r2"}, ""},
	} {
		if got := ids(c.f); got != c.want {
			t.Errorf("filter %+v: %q, want %q", c.f, got, c.want)
		}
	}
}

// Paging through 100k jobs with a filter that matches only the oldest
// one: every page looks at no more than the scan budget, so each answers
// quickly, and following the cursors finds the job exactly once.
func TestJobPagingStaysBoundedOn100kJobs(t *testing.T) {
	h := newQueueHarness(t)
	h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "rare", Name: "rare", Graph: graph("rare")})
	h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: []JobSpec{{ID: "oldest", WorkflowID: "rare", ExecutionMode: "any"}}})
	const total = 100_000
	for b := 0; b < total/1000; b++ {
		specs := make([]JobSpec, 1000)
		for i := range specs {
			specs[i] = JobSpec{ID: fmt.Sprintf("j%06d", b*1000+i), WorkflowID: "w1", ExecutionMode: "any"}
		}
		h.mustApply(cmdSubmitJobs, SubmitJobsCmd{Jobs: specs})
	}
	s := storeOver(h)
	var found []string
	var cursor uint64
	pages, slowest := 0, time.Duration(0)
	for {
		start := time.Now()
		jobs, next, _ := s.Jobs(JobFilter{WorkflowID: "rare", Limit: 100, Cursor: cursor})
		slowest = max(slowest, time.Since(start))
		pages++
		for _, j := range jobs {
			found = append(found, j.ID)
		}
		if next == 0 {
			break
		}
		cursor = next
		if pages > total/jobScanBudget+2 {
			t.Fatalf("%d pages and still going: the cursor does not advance", pages)
		}
	}
	if len(found) != 1 || found[0] != "oldest" {
		t.Fatalf("found %v, want [oldest]", found)
	}
	if pages != total/jobScanBudget+1 {
		t.Errorf("%d pages, want %d: each page should stop at the scan budget of %d", pages, total/jobScanBudget+1, jobScanBudget)
	}
	t.Logf("%d jobs, filter matching the oldest: %d pages, slowest %v", total+1, pages, slowest)

	// Unfiltered deep paging starts each page from the cursor, not from
	// the newest job.
	start := time.Now()
	jobs, _, _ := s.Jobs(JobFilter{Limit: 100, Cursor: 500})
	if len(jobs) != 100 || jobs[0].Seq != 499 {
		t.Fatalf("page at cursor 500 starts at seq %d (%d jobs), want 499", jobs[0].Seq, len(jobs))
	}
	t.Logf("a page 99.5k jobs deep took %v", time.Since(start))
}
