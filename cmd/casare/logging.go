package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"
)

type logOptions struct {
	format string
	level  string
}

func addLogFlags(root *cobra.Command) {
	opts := &logOptions{}
	root.PersistentFlags().StringVar(&opts.format, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&opts.level, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		logger, err := opts.logger(cmd.ErrOrStderr())
		if err != nil {
			return err
		}
		slog.SetDefault(logger)
		return nil
	}
}

func (o *logOptions) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", o.level)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch o.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, hopts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, hopts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", o.format)
	}
}
