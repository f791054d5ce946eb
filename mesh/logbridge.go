package mesh

import (
	"context"
	"log"
	"log/slog"
	"strings"
)

// newMemberlistLogger returns a *log.Logger, which is what memberlist
// accepts, that forwards each line to logger at the level memberlist wrote
// in its prefix.
func newMemberlistLogger(logger *slog.Logger) *log.Logger {
	return log.New(logBridge{logger: logger.With("component", "memberlist")}, "", 0)
}

// logBridge receives one memberlist log line per Write: log.Logger formats
// a whole message before writing it and serialises concurrent writers.
type logBridge struct {
	logger *slog.Logger
}

func (b logBridge) Write(p []byte) (int, error) {
	level, msg := splitMemberlistLine(strings.TrimRight(string(p), "\r\n"))
	b.logger.Log(context.Background(), level, msg)
	return len(p), nil
}

// splitMemberlistLine maps memberlist's level prefix to a slog level and
// strips it. Lines without a known prefix (memberlist has a few, such as
// "Err: Could not set the deadline") are warnings: they report something odd.
func splitMemberlistLine(line string) (slog.Level, string) {
	level := slog.LevelWarn
	for _, l := range [...]struct {
		prefix string
		level  slog.Level
	}{
		{"[DEBUG] ", slog.LevelDebug},
		{"[INFO] ", slog.LevelInfo},
		{"[WARN] ", slog.LevelWarn},
		{"[ERR] ", slog.LevelError},
		{"[ERROR] ", slog.LevelError},
	} {
		if rest, ok := strings.CutPrefix(line, l.prefix); ok {
			level, line = l.level, rest
			break
		}
	}
	return level, strings.TrimPrefix(line, "memberlist: ")
}
