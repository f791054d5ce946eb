package consensus

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casare/casare/internal/testutil"
)

// heldBatcher is a leader's submit batcher whose entries wait, once
// sent, until the test releases them.
type heldBatcher struct {
	*groupCommit[[][]JobSpec, submitAnswer]
	waits   prometheus.Histogram
	sent    chan heldEntry
	release chan struct{}
}

// heldEntry is what one entry carried: the ids of its calls, and whether
// its flush found the batcher busy.
type heldEntry struct {
	ids  []string
	busy bool
}

func newHeldBatcher(t *testing.T, forwardWait time.Duration) *heldBatcher {
	h := &heldBatcher{waits: newTimings().forwardWait, sent: make(chan heldEntry, 8), release: make(chan struct{})}
	h.groupCommit = newSubmitBatcher(t.Context(), func(ctx context.Context, groups [][]JobSpec) (submitAnswer, error) {
		e := heldEntry{busy: flushWasBusy(ctx)}
		for _, g := range groups {
			e.ids = append(e.ids, g[0].ID)
		}
		h.sent <- e
		<-h.release
		return submitAnswer{full: make([]GroupResult, len(groups))}, nil
	}, h.waits)
	h.forwardWait = forwardWait
	t.Cleanup(h.close)
	t.Cleanup(func() { close(h.release) }) // before close, which waits for the entries
	return h
}

type callKind int

const (
	localCall     callKind = iota // a submit on the leader itself
	quietForward                  // a follower's forward, not marked more
	markedForward                 // a busy follower's forward
)

// call queues a call with one group, id's, and returns where its outcome
// arrives.
func (h *heldBatcher) call(t *testing.T, id string, kind callKind) <-chan error {
	done := make(chan error, 1)
	groups := [][]JobSpec{{{ID: id}}}
	go func() {
		var err error
		if kind == localCall {
			_, err = h.do(t.Context(), groups)
		} else {
			_, err = h.doForward(t.Context(), groups, kind == markedForward)
		}
		done <- err
	}()
	return done
}

// next returns the next entry sent.
func (h *heldBatcher) next(t *testing.T) heldEntry {
	t.Helper()
	select {
	case e := <-h.sent:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no entry was sent within 10 s")
		return heldEntry{}
	}
}

// commit releases the entry in flight and waits for the outcome of a
// call it carried.
func (h *heldBatcher) commit(t *testing.T, carried <-chan error) {
	t.Helper()
	h.release <- struct{}{}
	if err := <-carried; err != nil {
		t.Fatal(err)
	}
}

func (h *heldBatcher) waitPending(t *testing.T, n int) {
	t.Helper()
	testutil.WaitFor(t, 5*time.Second, fmt.Sprintf("%d calls pending", n), func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.pending) == n
	})
}

func wantEntry(t *testing.T, e heldEntry, ids ...string) {
	t.Helper()
	if !slices.Equal(e.ids, ids) {
		t.Fatalf("entry carried %v, want %v", e.ids, ids)
	}
}

// What the leader's entry after one that carried a forward holds, when
// a call arrived while that entry was in flight and another may come
// after its answer (the wait for forwardWait, an hour here, would
// otherwise hold it for good).
func TestLeaderWaitsForBusyFollowersNextForwards(t *testing.T) {
	type call struct {
		id   string
		kind callKind
	}
	for _, c := range []struct {
		name             string
		first, meanwhile call
		after            *call
		want             []string
	}{{
		name:  "a busy follower's next forward joins the leader's call",
		first: call{"f1", markedForward}, meanwhile: call{"local", localCall}, after: &call{"f2", quietForward},
		want: []string{"local", "f2"},
	}, {
		name:  "a quiet follower's forward is not waited for",
		first: call{"f1", quietForward}, meanwhile: call{"local", localCall},
		want: []string{"local"},
	}, {
		// Or two followers taking turns would never share an entry.
		name:  "a forward pending before the answer, another follower's, does not end the wait",
		first: call{"a1", markedForward}, meanwhile: call{"b1", markedForward}, after: &call{"a2", markedForward},
		want: []string{"b1", "a2"},
	}} {
		t.Run(c.name, func(t *testing.T) {
			h := newHeldBatcher(t, time.Hour)
			first := h.call(t, c.first.id, c.first.kind)
			wantEntry(t, h.next(t), c.first.id)
			h.call(t, c.meanwhile.id, c.meanwhile.kind)
			h.waitPending(t, 1)
			h.commit(t, first)
			if c.after != nil {
				h.call(t, c.after.id, c.after.kind)
			}
			wantEntry(t, h.next(t), c.want...)
		})
	}
}

// A busy follower whose next forward never comes (its load stopped, or
// it died) holds the leader's next entry for forwardWait at most, and
// the wait is timed.
func TestLeaderWaitForForwardsIsBounded(t *testing.T) {
	const wait = 50 * time.Millisecond
	h := newHeldBatcher(t, wait)
	f1 := h.call(t, "f1", markedForward)
	wantEntry(t, h.next(t), "f1")
	local := h.call(t, "local", localCall)
	h.waitPending(t, 1)
	start := time.Now()
	h.commit(t, f1)
	wantEntry(t, h.next(t), "local")
	if waited := time.Since(start); waited < wait {
		t.Errorf("the next entry left %v after the answer, before the wait of %v ended", waited, wait)
	}
	h.commit(t, local)
	if n := observations(t, h.waits); n != 1 {
		t.Errorf("%d waits timed, want 1", n)
	}
}

// After a wait that ran out, the leader does not wait after the next
// entry with a marked forward, and waits again after the one after.
func TestLeaderSkipsWaitsAfterOneRanOut(t *testing.T) {
	h := newHeldBatcher(t, 30*time.Millisecond)
	f1 := h.call(t, "f1", markedForward)
	wantEntry(t, h.next(t), "f1")
	l1 := h.call(t, "l1", localCall)
	h.waitPending(t, 1)
	h.commit(t, f1) // no forward comes: the wait runs out
	wantEntry(t, h.next(t), "l1")
	// From here on a wait would last an hour; the release below orders
	// this write before the flush loop's next read.
	h.forwardWait = time.Hour

	f2 := h.call(t, "f2", markedForward)
	h.waitPending(t, 1)
	h.commit(t, l1)
	wantEntry(t, h.next(t), "f2")
	l2 := h.call(t, "l2", localCall)
	h.waitPending(t, 1)
	h.commit(t, f2) // skipped: l2 leaves at once
	wantEntry(t, h.next(t), "l2")

	f3 := h.call(t, "f3", markedForward)
	h.waitPending(t, 1)
	h.commit(t, l2)
	wantEntry(t, h.next(t), "f3")
	h.call(t, "l3", localCall)
	h.waitPending(t, 1)
	h.commit(t, f3) // waits again, for f4
	h.call(t, "f4", quietForward)
	wantEntry(t, h.next(t), "l3", "f4")
	if n := observations(t, h.waits); n != 2 {
		t.Errorf("%d waits timed, want 2: the one that ran out and f3's", n)
	}
}

// However long the waits keep running out, the leader skips at most
// maxForwardWaitSkips and never stops skipping.
func TestForwardWaitSkipsStayBounded(t *testing.T) {
	var b groupCommit[int, int]
	for miss := 1; miss <= 200; miss++ {
		b.missedForwards()
		want := maxForwardWaitSkips
		if miss <= 6 {
			want = 1 << (miss - 1)
		}
		if b.forwardWaitSkips != want {
			t.Fatalf("after %d waits ran out the leader skips %d, want %d", miss, b.forwardWaitSkips, want)
		}
	}
}

// A flush finds its batcher busy when its calls waited for the entry
// before it, or when it starts less than busyGap after the last answer.
func TestFlushesFindTheBatcherBusy(t *testing.T) {
	h := newHeldBatcher(t, time.Hour)
	first := h.call(t, "first", localCall)
	if e := h.next(t); e.busy {
		t.Error("the first entry of an idle batcher found it busy")
	}
	second := h.call(t, "second", localCall)
	h.waitPending(t, 1)
	h.commit(t, first)
	if e := h.next(t); !e.busy {
		t.Error("an entry whose call waited for the one before did not find the batcher busy")
	}
	h.commit(t, second)

	h.mu.Lock()
	defer h.mu.Unlock()
	end := h.lastEnd
	for _, c := range []struct {
		followsAnother bool
		after          time.Duration
		want           bool
	}{{true, time.Hour, true}, {false, busyGap / 2, true}, {false, busyGap, false}, {false, time.Hour, false}} {
		if got := h.busy(c.followsAnother, end.Add(c.after)); got != c.want {
			t.Errorf("busy(follows another %v, %v after the last answer) = %v, want %v", c.followsAnother, c.after, got, c.want)
		}
	}
}

// Under concurrent submits through a follower, the follower marks its
// forwards, the leader waits for them, every submit is answered, and no
// entry in the log carries the mark.
func TestBusyFollowerForwardsMakeTheLeaderWait(t *testing.T) {
	ctx, leader, f := clusterWithWorkflow(t)
	const clients, each = 16, 20
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				spec := JobSpec{ID: fmt.Sprintf("c%d-%d", c, i), WorkflowID: "w1", ExecutionMode: ModeLAN}
				if _, err := f.SubmitJobs(ctx, []JobSpec{spec}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if observations(t, leader.timings.forwardWait) == 0 {
		t.Error("the leader never waited for the follower's forwards")
	}
	first, _ := leader.logs.FirstIndex()
	last, _ := leader.logs.LastIndex()
	for i := first; i <= last; i++ {
		var l raft.Log
		if err := leader.logs.GetLog(i, &l); err != nil {
			t.Fatal(err)
		}
		data, err := expandEntry(l.Data)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(`"more":true`)) {
			t.Fatalf("entry %d carries the forward's mark: %.200s", i, data)
		}
	}
	counts, _ := leader.JobCounts()
	if got := counts[JobQueued]; got != clients*each {
		t.Errorf("%d jobs queued on the leader, want %d", got, clients*each)
	}
}
