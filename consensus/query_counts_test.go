package consensus

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"testing"
	"time"
)

// scanQueueStats is QueueStats the slow way, over every job: what the
// counters and index walks must agree with.
func scanQueueStats(st *state, now time.Time) QueueStats {
	q := QueueStats{ByState: map[JobState]int{}, QueuedByPrio: map[int]int{}}
	for _, j := range st.jobs {
		q.ByState[j.State]++
		if j.State == JobQueued {
			q.QueuedByPrio[j.Priority]++
			if q.OldestQueued.IsZero() || j.CreatedAt.Before(q.OldestQueued) {
				q.OldestQueued = j.CreatedAt
			}
		}
		// By whole seconds: the second a minute ago still counts.
		if j.State.Terminal() && j.FinishedAt.Unix() >= now.Add(-time.Minute).Unix() {
			q.FinishedLastMin++
		}
	}
	return q
}

func TestQueueStatsCountersAgreeWithAScan(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	h := newQueueHarness(t)
	store := storeOver(h)
	var running []ClaimedJob
	for step := range 600 {
		h.advance(time.Duration(r.IntN(3000)) * time.Millisecond)
		switch r.IntN(6) {
		case 0, 1:
			h.submit(fmt.Sprint("j", step), r.IntN(4))
		case 2:
			running = append(running, h.claim(fmt.Sprint("r", r.IntN(3)), 1+r.IntN(3))...)
		case 3:
			if len(running) > 0 {
				c := running[0]
				running = running[1:]
				h.complete(c.Job.RobotID, Completion{JobID: c.Job.ID, Token: c.Job.Lease.Token, Succeeded: r.IntN(2) == 0, Error: "no", FailureKind: "business"})
			}
		case 4:
			_, _ = h.apply(cmdCancelJob, CancelJobCmd{ID: fmt.Sprint("j", r.IntN(step+1))}) // an unknown or finished job is refused
		case 5:
			if r.IntN(4) == 0 { // retention: the jobs that finished over 40 s ago
				var ids []string
				for id, j := range h.f.state.jobs {
					if j.State.Terminal() && h.now.Sub(j.FinishedAt) > 40*time.Second {
						ids = append(ids, id)
					}
				}
				h.mustApply(cmdPruneJobs, PruneJobsCmd{IDs: ids, Before: h.now.Add(-40 * time.Second)})
			}
			if r.IntN(20) == 0 {
				h.mustApply(cmdDeleteWorkflow, DeleteWorkflowCmd{ID: "w1", Force: true})
				h.mustApply(cmdPutWorkflow, PutWorkflowCmd{ID: "w1", Name: "a", Graph: graph("a"), RequestID: fmt.Sprint("p", step)})
			}
		}
		got := store.QueueStats(h.now)
		want := scanQueueStats(h.f.state, h.now)
		if !maps.Equal(got.ByState, want.ByState) || !maps.Equal(got.QueuedByPrio, want.QueuedByPrio) ||
			!got.OldestQueued.Equal(want.OldestQueued) || got.FinishedLastMin != want.FinishedLastMin {
			t.Fatalf("step %d: QueueStats = %+v, a scan says %+v", step, got, want)
		}
		if step%100 == 99 { // a restored state counts them again from its jobs
			restored := newFSM()
			if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, h.f)))); err != nil {
				t.Fatal(err)
			}
			if n := restored.state.finishes.lastMinute(h.now); n != want.FinishedLastMin {
				t.Fatalf("step %d: restored, finished_last_minute = %d, a scan says %d", step, n, want.FinishedLastMin)
			}
		}
		counts, _ := store.JobCounts()
		if !maps.Equal(counts, want.ByState) {
			t.Fatalf("step %d: JobCounts = %v, a scan says %v", step, counts, want.ByState)
		}
	}
}
