package node

import (
	"testing"
	"time"
)

// A robot-only node's robot keeps away from a server that answered
// no_leader for shunLeaderless and, when every server was shunned, goes
// round them instead of calling the first.
func TestRemoteQueueShunsLeaderlessServers(t *testing.T) {
	now := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	servers := []string{"a:1", "b:1", "c:1"}
	s := &shunned{until: map[string]time.Time{}}
	steps := []struct {
		shun  string
		after time.Duration
		want  string
	}{
		{"", 0, "a:1"},
		{"a:1", 0, "b:1"},
		{"b:1", time.Second, "c:1"},
		{"c:1", 2 * time.Second, "a:1"}, // all shunned: the one shunned longest ago
		{"a:1", 3 * time.Second, "b:1"}, // and round them, not back to the first
		{"b:1", 4 * time.Second, "c:1"},
		{"", shunLeaderless + 2*time.Second, "c:1"}, // c:1 was shunned at 2 s, before a:1 and b:1 again
		{"", shunLeaderless + 3*time.Second, "a:1"}, // a:1's time is up
	}
	for i, st := range steps {
		at := now.Add(st.after)
		if st.shun != "" {
			s.add(st.shun, at)
		}
		if got := s.pick(servers, at); got != st.want {
			t.Errorf("step %d (%+v): picked %q, want %q", i, st, got, st.want)
		}
	}
	if got := s.pick(nil, now); got != "" {
		t.Errorf("no servers: picked %q", got)
	}
}
