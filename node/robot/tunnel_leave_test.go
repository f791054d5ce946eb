package robot

import (
	"testing"
	"time"

	"github.com/casare/casare/mesh/tunnel"
)

// A streak of leaderless nodes leaves each node once, counts the calls
// of one connection once, stops when every node had no leader, and
// tries them all again after leaderlessRound.
func TestLeaderlessStreakLeavesEachNodeOnce(t *testing.T) {
	const nodes = 3
	var s leaderlessStreak
	now := time.Unix(1_700_000_000, 0)
	a, b, c, d, e := new(tunnel.Conn), new(tunnel.Conn), new(tunnel.Conn), new(tunnel.Conn), new(tunnel.Conn)
	steps := []struct {
		conn  *tunnel.Conn
		after time.Duration
		leave bool
	}{
		{a, 0, true},
		{a, 0, true}, // a heartbeat answered beside the claim: the same node
		{b, time.Second, true},
		{c, time.Second, true},
		{d, time.Second, false},                     // every node had no leader: stay
		{d, leaderlessRound - 2*time.Second, false}, // 29 s after the third node
		{d, time.Second, true},                      // a round later: try them again
		{e, time.Second, true},
	}
	for i, st := range steps {
		now = now.Add(st.after)
		if got := s.leave(st.conn, nodes, now); got != st.leave {
			t.Fatalf("step %d: leave %v, want %v (streak %+v)", i, got, st.leave, s)
		}
	}
}
