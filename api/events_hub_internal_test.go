package api

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casare/casare/consensus"
)

// Publishing never waits for a reader: with many readers that stopped
// reading, the apply path still publishes 100k entries at once, and each
// stalled reader learns it was dropped and the index to resume from
// (the entry before the first event it was not sent).
func TestHubPublishNeverWaitsForStalledReaders(t *testing.T) {
	h := newHub(1024, newEventMetrics(prometheus.NewRegistry()))
	h.start(0, consensus.JobCounts{})
	stalled := make([]cursor, 50)
	for i := range stalled {
		cur, _, _, err := h.subscribe(nil)
		if err != nil {
			t.Fatal(err)
		}
		stalled[i] = cur
	}
	// One reader takes a first batch and then stalls too.
	h.Applied(consensus.Applied{Index: 1, Changes: []consensus.Change{{Kind: consensus.ChangeJob, JobID: "a", To: consensus.JobQueued}}})
	if b, err := h.read(&stalled[0], maxFrameEvents); err != nil || len(b.events) != 1 || b.resume != 1 {
		t.Fatalf("first read: %+v, %v", b, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(2); i <= 100_000; i++ {
			h.Applied(consensus.Applied{Index: i, Changes: []consensus.Change{{Kind: consensus.ChangeJob, JobID: "j", To: consensus.JobRunning}}})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("publishing 100k entries with 50 stalled readers did not finish in 30 s: the apply path waits for readers")
	}
	_, err := h.read(&stalled[0], maxFrameEvents)
	if !errors.Is(err, errDropped) {
		t.Fatalf("stalled reader: %v, want dropped", err)
	}
	b, _ := h.read(&stalled[0], maxFrameEvents)
	if b.resume != h.floor {
		t.Errorf("a reader whose events were overwritten resumes at %d, want the floor %d (a reload)", b.resume, h.floor)
	}
	// A reader dropped while its events are still held resumes exactly.
	h2 := newHub(1024, newEventMetrics(prometheus.NewRegistry()))
	cur, _, _, _ := h2.subscribe(nil)
	for i := uint64(1); i <= 600; i++ {
		h2.Applied(consensus.Applied{Index: i, Changes: []consensus.Change{{Kind: consensus.ChangeJob, JobID: "j"}}})
	}
	b, err = h2.read(&cur, maxFrameEvents)
	if !errors.Is(err, errDropped) || b.resume != 0 {
		t.Fatalf("reader 600 events behind (limit 512): resume %d, %v; want dropped, resume 0 (its first unsent event is index 1)", b.resume, err)
	}
}
