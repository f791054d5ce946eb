package robot

import (
	"testing"
	"time"
)

// TestFenceCountsFromTheHeartbeatsHoldAtTheNode: a heartbeat the node
// held before sending it on confirms the lease from the send time plus
// the hold, never from later than the answer and never earlier than the
// send.
func TestFenceCountsFromTheHeartbeatsHoldAtTheNode(t *testing.T) {
	sent := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	answered := sent.Add(700 * time.Millisecond)
	for _, c := range []struct {
		waited time.Duration
		want   time.Time
	}{
		{0, sent},
		{400 * time.Millisecond, sent.Add(400 * time.Millisecond)},
		{time.Second, answered}, // a hold longer than the round trip is not believed
		{-time.Second, sent},
	} {
		if got := renewedNoSooner(sent, c.waited, answered); !got.Equal(c.want) {
			t.Errorf("waited %v: confirmed at %v, want %v", c.waited, got.Sub(sent), c.want.Sub(sent))
		}
	}
}
