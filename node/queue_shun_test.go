package node

import (
	"testing"
	"time"
)

// A robot-only node's robot keeps away from a server that answered
// no_leader for shunLeaderless, and calls the first server when every
// one was shunned.
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
		{"c:1", 2 * time.Second, "a:1"}, // all shunned: the first
		{"", shunLeaderless, "a:1"},     // a:1's time is up; b:1's and c:1's are not
		{"a:1", shunLeaderless + time.Second/2, "a:1"},
		{"", shunLeaderless + time.Second, "b:1"},
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
