package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

func newJobsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "jobs",
		Aliases: []string{"job"},
		Short:   "List, show, cancel, re-run jobs and read their logs",
	}
	cmd.AddCommand(newJobsListCmd(), newJobGetCmd(), newJobCancelCmd(), newJobLogsCmd(), newJobRerunCmd())
	return cmd
}

func newJobsListCmd() *cobra.Command {
	var flags *clientFlags
	var query client.JobQuery
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(flags.server).Jobs(cmd.Context(), query)
			if err != nil {
				return callError("list jobs", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			if err := printJobs(cmd.OutOrStdout(), list.Jobs); err != nil {
				return err
			}
			if list.NextCursor != nil {
				// On stderr, so that the table on stdout stays parseable.
				fmt.Fprintf(cmd.ErrOrStderr(), "more jobs: add --cursor %s\n", *list.NextCursor)
			}
			return nil
		},
	}
	flags = addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&query.State, "state", "", "only jobs in this state: queued, running, succeeded, failed, cancelled or dead")
	f.StringVar(&query.WorkflowID, "workflow", "", "only jobs of this workflow id")
	f.IntVar(&query.Limit, "limit", 50, "at most this many jobs (1-1000)")
	f.StringVar(&query.Cursor, "cursor", "", "continue after the previous page (printed when there are more jobs)")
	return cmd
}

func printJobs(w io.Writer, jobs []api.Job) error {
	tw := newTable(w)
	row(tw, "ID", "WORKFLOW", "VERSION", "STATE", "PRIORITY", "MODE", "ATTEMPT", "ROBOT", "CREATED")
	for _, j := range jobs {
		row(tw, j.ID, j.WorkflowID, j.WorkflowVersion, j.State, j.Priority, j.ExecutionMode,
			j.Attempt, orDash(j.RobotID), formatTime(j.CreatedAt))
	}
	return tw.Flush()
}

func newJobGetCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show one job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			job, err := newClient(flags.server).Job(cmd.Context(), args[0])
			if err != nil {
				return callError("get job", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), job)
			}
			return printJob(cmd.OutOrStdout(), job)
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func printJob(w io.Writer, j api.Job) error {
	tw := newTable(w)
	row(tw, "ID:", j.ID)
	row(tw, "Workflow:", fmt.Sprintf("%s (version %d)", j.WorkflowID, j.WorkflowVersion))
	state := j.State
	if j.Late {
		state += " (late)"
	}
	row(tw, "State:", state)
	row(tw, "Priority:", j.Priority)
	row(tw, "Mode:", j.ExecutionMode)
	row(tw, "Attempt:", fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts))
	row(tw, "Robot:", orDash(j.RobotID))
	if len(j.RobotTags) > 0 {
		row(tw, "Robot tags:", strings.Join(j.RobotTags, ","))
	}
	row(tw, "Params:", string(j.Params))
	if j.Error != "" {
		row(tw, "Error:", strings.TrimSpace(j.FailureKind+" "+j.Error))
	}
	if len(j.Result) > 0 {
		row(tw, "Result:", string(j.Result))
	}
	optional := [][2]string{
		{"Deadline:", formatOptionalTime(j.Deadline)}, {"Not before:", formatOptionalTime(j.NotBefore)},
		{"Schedule:", j.ScheduleID}, {"Re-run of:", j.RerunOf}, {"Unique key:", j.UniqueKey}, {"Backoff:", j.Backoff},
	}
	for _, o := range optional {
		if o[1] != "" {
			row(tw, o[0], o[1])
		}
	}
	row(tw, "Created:", formatTime(j.CreatedAt))
	row(tw, "Updated:", formatTime(j.UpdatedAt))
	row(tw, "Finished:", formatTime(j.FinishedAt))
	for _, a := range j.Attempts {
		outcome := cmp.Or(a.Outcome, "running")
		if a.Error != "" {
			outcome += ": " + a.Error
		}
		row(tw, fmt.Sprintf("Attempt %d:", a.Attempt), fmt.Sprintf("%s on %s at %s", outcome, a.RobotID, formatTime(a.StartedAt)))
	}
	return tw.Flush()
}

// formatOptionalTime renders a timestamp that is usually absent as "".
func formatOptionalTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return formatTime(t)
}

func newJobLogsCmd() *cobra.Command {
	var server string
	var follow bool
	var offset int
	cmd := &cobra.Command{
		Use:   "logs ID",
		Short: "Print a job's log; --follow streams new lines until the job finishes",
		Long: "Print the log lines the cluster keeps of a job (the newest 200; the full log\n" +
			"is in the archive when one is set). With --follow, go on printing new lines\n" +
			"until the job finishes, then say how it finished on stderr.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, out := newClient(server), cmd.OutOrStdout()
			if follow {
				end, err := c.FollowJobLogs(cmd.Context(), args[0], offset, func(l api.LogLine) error {
					return printLogLine(out, l)
				})
				if err != nil {
					return callError("follow job logs", server, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "job %s %s\n", end.JobID, describeEnd(end.State, end.Error))
				return nil
			}
			return printAllLogs(cmd.Context(), c, server, args[0], offset, out)
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "stream new lines until the job finishes")
	cmd.Flags().IntVar(&offset, "offset", 0, "start at this line of the kept log")
	return cmd
}

// logPage is the most lines one logs request asks for.
const logPage = 1000

func printAllLogs(ctx context.Context, c *client.Client, server, id string, offset int, w io.Writer) error {
	for {
		page, err := c.JobLogs(ctx, id, offset, logPage)
		if err != nil {
			return callError("get job logs", server, err)
		}
		for _, l := range page.Lines {
			if err := printLogLine(w, l); err != nil {
				return err
			}
		}
		if len(page.Lines) == 0 {
			return nil
		}
		offset = page.NextOffset
	}
}

func printLogLine(w io.Writer, l api.LogLine) error {
	node := ""
	if l.NodeID != "" {
		node = "[" + l.NodeID + "] "
	}
	_, err := fmt.Fprintf(w, "%s %-5s %s%s\n", l.Time.Local().Format("2006-01-02 15:04:05.000"), strings.ToUpper(l.Level), node, l.Message)
	return err
}

// describeEnd says how a job finished, for people.
func describeEnd(state, errMsg string) string {
	switch {
	case state == "":
		return "is no longer kept in the cluster: " + errMsg
	case errMsg != "":
		return state + ": " + errMsg
	}
	return state
}

func newJobRerunCmd() *cobra.Command {
	var flags *clientFlags
	var latest bool
	cmd := &cobra.Command{
		Use:   "rerun ID",
		Short: "Queue a finished job again as a new job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			job, err := newClient(flags.server).RerunJob(cmd.Context(), args[0], latest)
			if err != nil {
				return callError("re-run job", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), job)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "Job:", job.ID)
			row(tw, "Re-run of:", job.RerunOf)
			row(tw, "Workflow:", fmt.Sprintf("%s (version %d)", job.WorkflowID, job.WorkflowVersion))
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	cmd.Flags().BoolVar(&latest, "latest", false, "run the workflow's latest version instead of the one the job ran")
	return cmd
}

func newJobCancelCmd() *cobra.Command {
	var server, reason string
	cmd := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a queued or running job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			job, err := newClient(server).CancelJob(cmd.Context(), args[0], reason)
			if err != nil {
				return callError("cancel job", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "job %s is %s\n", job.ID, job.State)
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&reason, "reason", "", "why the job is cancelled (kept as the job's error)")
	return cmd
}
