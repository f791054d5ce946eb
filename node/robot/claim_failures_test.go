package robot

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A run of failed claims warns once, again a minute later, and says when
// claims are answered again; the retries between are debug lines.
func TestClaimFailuresWarnOncePerMinute(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	start := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	errNoLeader := errors.New("no leader")
	var f claimFailures
	steps := []struct {
		at     time.Duration
		answer bool
		want   string // the level and message of the line it logs, or ""
	}{
		{0, false, "level=WARN msg=\"claim failed; retrying it\""},
		{2 * time.Second, false, "level=DEBUG msg=\"claim failed; retrying it\""},
		{59 * time.Second, false, "level=DEBUG msg=\"claim failed; retrying it\""},
		{61 * time.Second, false, "level=WARN msg=\"claims still failing; retrying\""},
		{63 * time.Second, false, "level=DEBUG"},
		{64 * time.Second, true, "level=INFO msg=\"claims answered again\" failed_in_a_row=5 for=1m4s"},
		{70 * time.Second, false, "level=WARN msg=\"claim failed; retrying it\""},
		{71 * time.Second, true, ""}, // one failure: its warning said it all
	}
	for _, s := range steps {
		logs.Reset()
		if s.answer {
			f.answered(log, start.Add(s.at))
		} else {
			f.failed(log, start.Add(s.at), errNoLeader)
		}
		got := strings.TrimSpace(logs.String())
		if s.want == "" && got != "" || !strings.Contains(got, s.want) || strings.Count(got, "\n") > 0 {
			t.Errorf("at %v (answered %v): logged %q, want one line with %q", s.at, s.answer, got, s.want)
		}
	}
}
