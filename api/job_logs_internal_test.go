package api

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

// TestLogCursorFollowsASlidingWindow checks that a follower sends every
// line once although Raft's window of kept lines slides under it.
func TestLogCursorFollowsASlidingWindow(t *testing.T) {
	base := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []consensus.LogLine
	window := func() []consensus.LogLine { return all[max(0, len(all)-consensus.MaxJobLogLines):] }
	logMore := func(n int) {
		for range n {
			i := len(all)
			all = append(all, consensus.LogLine{Time: base.Add(time.Duration(i) * time.Millisecond), Level: "info", Message: fmt.Sprint(i)})
		}
	}
	var sent []string
	cursor := logCursor{sent: 2}
	follow := func() {
		for _, l := range cursor.next(window()) {
			sent = append(sent, l.Message)
		}
	}

	logMore(5)
	follow() // from offset 2
	logMore(consensus.MaxJobLogLines - 10)
	follow() // the window is not full yet: positions hold
	logMore(30)
	follow() // the window slid by 25 lines
	follow() // nothing new
	logMore(consensus.MaxJobLogLines + 50)
	follow() // the window slid past every line sent: lines 225-274 are lost

	var want []string
	for i := 2; i < len(all); i++ {
		if i < 225 || i >= 275 {
			want = append(want, fmt.Sprint(i))
		}
	}
	if strings.Join(sent, ",") != strings.Join(want, ",") {
		t.Errorf("sent %d lines %v…, want %d lines %v…", len(sent), sent[:5], len(want), want[:5])
	}
}
