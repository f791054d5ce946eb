package consensus

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// TestRaftLogLevelsKeepTheirLevel: what raft, its transport and its
// snapshot store log at ERROR, WARN, INFO and DEBUG reaches slog at the
// same level, with raft's key-value pairs as attributes (grouped under
// "raft", formatted ones formatted), not every line as a WARN with the
// level inside the text.
func TestRaftLogLevelsKeepTheirLevel(t *testing.T) {
	var buf bytes.Buffer
	logger := raftLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), "raft-net")
	logger.Error("failed to accept connection", "error", "boom")
	logger.Warn("heartbeat timeout reached")
	logger.Info("entering follower state", "term", 3, "servers", hclog.Fmt("%+v", []int{1, 2}))
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
		raftAttrs, _ := rec["raft"].(map[string]any)
		if rec["msg"] == "failed to accept connection" && raftAttrs["error"] != "boom" {
			t.Errorf("raft's attributes are lost: %s", line)
		}
		if rec["msg"] == "entering follower state" && raftAttrs["servers"] != "[1 2]" {
			t.Errorf("a formatted attribute is not formatted: %s", line)
		}
	}
	want := []string{"ERROR failed to accept connection", "WARN heartbeat timeout reached", "INFO entering follower state", "DEBUG sending heartbeat"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("logged %q, want %q\n%s", got, want, buf.String())
	}
}
