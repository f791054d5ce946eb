package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

func newJobsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "jobs",
		Aliases: []string{"job"},
		Short:   "List, show and cancel jobs",
	}
	cmd.AddCommand(newJobsListCmd(), newJobGetCmd(), newJobCancelCmd())
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
	row(tw, "State:", j.State)
	row(tw, "Priority:", j.Priority)
	row(tw, "Mode:", j.ExecutionMode)
	row(tw, "Attempt:", fmt.Sprintf("%d of %d", j.Attempt, j.MaxAttempts))
	row(tw, "Robot:", orDash(j.RobotID))
	if len(j.RobotTags) > 0 {
		row(tw, "Robot tags:", strings.Join(j.RobotTags, ","))
	}
	row(tw, "Params:", string(j.Params))
	if j.Error != "" {
		row(tw, "Error:", j.Error)
	}
	if len(j.Result) > 0 {
		row(tw, "Result:", string(j.Result))
	}
	row(tw, "Created:", formatTime(j.CreatedAt))
	row(tw, "Updated:", formatTime(j.UpdatedAt))
	row(tw, "Finished:", formatTime(j.FinishedAt))
	return tw.Flush()
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
