//go:build unix

package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// logMark finds the first line of a message after the kill, in the text
// that the nodes' slog handler writes, and nothing before the kill.
func TestLogMarkReadsALeaderChangeFromTheNodesLog(t *testing.T) {
	n := &procNode{dir: t.TempDir()}
	log := `time=2026-11-30T16:00:00.100Z level=INFO msg="entering leader state" node=n2 part=consensus component=raft
time=2026-11-30T16:00:01.700Z level=WARN msg="heartbeat timeout reached, starting election" node=n2 part=consensus component=raft last-leader-addr=127.0.0.1:1
time=2026-11-30T16:00:02.050Z level=INFO msg="entering leader state" node=n2 part=consensus component=raft leader="Node at 127.0.0.1:2 [Leader]"
time=2026-11-30T16:00:02.053Z level=INFO msg="gained leadership" node=n2 part=consensus term=3
not a log line
`
	if err := os.WriteFile(filepath.Join(n.dir, "node.log"), []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	killed := time.Date(2026, 11, 30, 16, 0, 1, 0, time.UTC)
	for msg, want := range map[string]time.Duration{
		logHeartbeatTimeout: 700 * time.Millisecond,
		logLeaderState:      1050 * time.Millisecond,
		logGainedLeadership: 1053 * time.Millisecond,
		"never logged":      0,
	} {
		if got := logMark(n, msg, killed); got != want {
			t.Errorf("logMark(%q) = %v, want %v", msg, got, want)
		}
	}
	if got := earliest(earliest(0, 300*time.Millisecond), 200*time.Millisecond); got != 200*time.Millisecond {
		t.Errorf("earliest = %v", got)
	}
}
