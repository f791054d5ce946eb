package consensus

import (
	"fmt"
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
		if j.State.Terminal() && now.Sub(j.FinishedAt) <= time.Minute {
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
		counts, _ := store.JobCounts()
		if !maps.Equal(counts, want.ByState) {
			t.Fatalf("step %d: JobCounts = %v, a scan says %v", step, counts, want.ByState)
		}
	}
}
