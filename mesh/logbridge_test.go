package mesh

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestMemberlistLogLevels(t *testing.T) {
	var out lockedBuffer
	logger := newMemberlistLogger(slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	logger.Printf("[DEBUG] memberlist: Stream connection from=127.0.0.1:1")
	logger.Printf("[INFO] memberlist: Marking node-3 as failed, suspect timeout reached (2 peer confirmations)")
	logger.Printf("[WARN] memberlist: Refuting a suspect message (from: node-1)")
	logger.Printf("[ERR] memberlist: Failed fallback TCP ping: connection refused")
	logger.Printf("Err: Could not set the deadline: boom")

	want := []struct{ level, msg string }{
		{"DEBUG", "Stream connection from=127.0.0.1:1"},
		{"INFO", "Marking node-3 as failed, suspect timeout reached (2 peer confirmations)"},
		{"WARN", "Refuting a suspect message (from: node-1)"},
		{"ERROR", "Failed fallback TCP ping: connection refused"},
		{"WARN", "Err: Could not set the deadline: boom"},
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(want) {
		t.Fatalf("got %d records, want %d:\n%s", len(lines), len(want), out.String())
	}
	for i, line := range lines {
		var rec struct {
			Level, Msg, Component string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Level != want[i].level || rec.Msg != want[i].msg || rec.Component != "memberlist" {
			t.Errorf("record %d = %+v, want level %s msg %q component memberlist", i, rec, want[i].level, want[i].msg)
		}
	}
}
