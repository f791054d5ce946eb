package consensus

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestRaftLogLevelsKeepTheirLevel: what raft, its transport and its
// snapshot store log at ERROR, WARN, INFO and DEBUG reaches slog at the
// same level, with raft's key-value pairs as attributes, not every line
// as a WARN with the level inside the text.
func TestRaftLogLevelsKeepTheirLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := raftLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), "raft-net")
	logger.Error("failed to accept connection", "error", "boom")
	logger.Warn("heartbeat timeout reached")
	logger.Info("entering follower state", "term", 3)
	logger.Debug("sending heartbeat")
	var got []string
	for line := range strings.Lines(buf.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		got = append(got, rec["level"].(string)+" "+rec["msg"].(string))
		if strings.Contains(rec["msg"].(string), "[") {
			t.Errorf("the level is in the message: %s", line)
		}
		if rec["msg"] == "failed to accept connection" && rec["error"] != "boom" {
			t.Errorf("raft's attributes are lost: %s", line)
		}
	}
	want := []string{"ERROR failed to accept connection", "WARN heartbeat timeout reached", "INFO entering follower state", "DEBUG sending heartbeat"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("logged %q, want %q\n%s", got, want, buf.String())
	}
}
