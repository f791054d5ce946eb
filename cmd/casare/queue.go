package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/wire"
)

func newQueueCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "queue",
		Short: "Show the job queue; pause, resume or tune it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			stats, err := newClient(cmd, flags.server).QueueStats(cmd.Context())
			if err != nil {
				return callError("queue stats", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), stats)
			}
			return printQueueStats(cmd.OutOrStdout(), stats)
		},
	}
	flags = addClientFlags(cmd)
	cmd.AddCommand(newQueuePauseCmd(true), newQueuePauseCmd(false), newQueueSettingsCmd())
	return cmd
}

func printQueueStats(w io.Writer, q api.QueueStats) error {
	tw := newTable(w)
	row(tw, "Paused:", mark(q.Paused))
	row(tw, "Paused workflows:", orDash(strings.Join(q.PausedWorkflows, ",")))
	oldest := "-"
	if !q.OldestQueuedAt.IsZero() {
		age := time.Duration(q.OldestQueuedAgeSeconds * float64(time.Second)).Round(time.Second)
		oldest = fmt.Sprintf("%s ago (%s)", age, formatTime(q.OldestQueuedAt))
	}
	row(tw, "Oldest queued:", oldest)
	row(tw, "Finished last minute:", q.FinishedLastMinute)
	row(tw)
	row(tw, "STATE", "JOBS")
	for _, st := range wire.JobStates() {
		row(tw, st, q.ByState[st])
	}
	if len(q.QueuedByPriority) > 0 {
		row(tw)
		row(tw, "PRIORITY", "QUEUED")
		priorities := slices.Sorted(maps.Keys(q.QueuedByPriority))
		slices.Reverse(priorities) // claimed highest first
		for _, p := range priorities {
			row(tw, p, q.QueuedByPriority[p])
		}
	}
	return tw.Flush()
}

// newQueuePauseCmd makes "queue pause" or "queue resume".
func newQueuePauseCmd(pause bool) *cobra.Command {
	var server, workflow string
	verb, short := "resume", "Let queued jobs be claimed again"
	if pause {
		verb, short = "pause", "Hold queued jobs in the queue; running jobs go on"
	}
	cmd := &cobra.Command{
		Use:   verb,
		Short: short + " (of one workflow with --workflow)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := newClient(cmd, server)
			var err error
			if workflow != "" {
				if workflow, err = resolved(cmd.Context(), c, server, verb+" queue", workflow, resolveWorkflow); err != nil {
					return err
				}
			}
			switch {
			case workflow != "" && pause:
				err = c.PauseWorkflow(cmd.Context(), workflow)
			case workflow != "":
				err = c.ResumeWorkflow(cmd.Context(), workflow)
			case pause:
				err = c.PauseQueue(cmd.Context())
			default:
				err = c.ResumeQueue(cmd.Context())
			}
			if err != nil {
				return callError(verb+" queue", server, err)
			}
			what := "queue"
			if workflow != "" {
				what = "queue of workflow " + workflow
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s %sd\n", what, verb)
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&workflow, "workflow", "", "only this workflow's jobs (id, name or unique id prefix)")
	return cmd
}

func newQueueSettingsCmd() *cobra.Command {
	var flags *clientFlags
	var maxConcurrency int
	var req api.WorkflowSettingsRequest
	cmd := &cobra.Command{
		Use:     "settings WORKFLOW",
		Short:   "Change a workflow's queue settings",
		Example: "  casare queue settings 0199… --max-concurrency 2 --visibility-timeout 2m",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			if cmd.Flags().Changed("max-concurrency") {
				req.MaxConcurrency = &maxConcurrency
			}
			c := newClient(cmd, flags.server)
			id, err := resolved(cmd.Context(), c, flags.server, "change queue settings", args[0], resolveWorkflow)
			if err != nil {
				return err
			}
			settings, err := c.SetWorkflowSettings(cmd.Context(), id, req)
			if err != nil {
				return callError("change queue settings", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), settings)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "Max concurrency:", settings.MaxConcurrency)
			row(tw, "Visibility timeout:", settings.VisibilityTimeout)
			row(tw, "Paused:", mark(settings.Paused))
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	cmd.Flags().IntVar(&maxConcurrency, "max-concurrency", 0, "how many of its jobs may run at once (0: no cap)")
	cmd.Flags().StringVar(&req.VisibilityTimeout, "visibility-timeout", "", "lease a claim grants, such as 45s (1s to 1h)")
	return cmd
}
