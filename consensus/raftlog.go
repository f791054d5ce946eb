package consensus

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/hashicorp/go-hclog"
)

// raftLogger returns the hclog.Logger that raft, its TCP transport and
// its snapshot store log through. Each record reaches log at its own
// level (raft's [ERROR] as slog's ERROR, [INFO] as INFO) with raft's
// key-value pairs as attributes: hclog hands every record to a sink
// before formatting, so nothing is parsed back out of text. The hclog
// side writes nowhere; log's handler decides what is kept.
func raftLogger(log *slog.Logger, component string) hclog.Logger {
	level := hclog.Info
	if log.Enabled(context.Background(), slog.LevelDebug) {
		level = hclog.Debug // raft skips building debug records below this
	}
	l := hclog.NewInterceptLogger(&hclog.LoggerOptions{Name: component, Level: level, Output: io.Discard})
	l.RegisterSink(slogSink{log.With("component", component)})
	return l
}

// slogSink forwards hclog records to slog.
type slogSink struct{ log *slog.Logger }

// Accept logs one record. Raft's attributes go in a "raft" group: its
// keys (node, leader, term …) would otherwise read as this node's own.
func (s slogSink) Accept(_ string, level hclog.Level, msg string, args ...any) {
	ctx := context.Background()
	lvl := slogLevel(level)
	if !s.log.Enabled(ctx, lvl) {
		return
	}
	args = slices.Clone(args) // the caller's slice, not ours to change
	for i, a := range args {
		if f, ok := a.(hclog.Format); ok && len(f) > 0 {
			// hclog.Fmt defers formatting to the writer: do it here.
			format, _ := f[0].(string)
			args[i] = fmt.Sprintf(format, f[1:]...)
		}
	}
	s.log.Log(ctx, lvl, msg, slog.Group("raft", args...))
}

// slogLevel maps hclog's levels onto slog's; trace sits below debug.
func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}
