package main

import (
	"context"
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
			c := newClient(cmd, flags.server)
			if query.WorkflowID != "" {
				id, err := resolved(cmd.Context(), c, flags.server, "list jobs", query.WorkflowID, resolveWorkflow)
				if err != nil {
					return err
				}
				query.WorkflowID = id
			}
			list, err := c.Jobs(cmd.Context(), query)
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
	f.StringVar(&query.WorkflowID, "workflow", "", "only jobs of this workflow (id, name or unique id prefix)")
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
	return idCmd(&cobra.Command{
		Use:   "get ID",
		Short: "Show one job: its state, attempts, why it waits, checkpoint and last log lines",
		Long: "Show one job. ID may be a unique prefix of the job's id. A queued job that no\n" +
			"robot takes says why (queue paused, no robot named X, not before T, no robot\n" +
			"with tags …). The checkpoint and the newest log lines the cluster keeps follow;\n" +
			"casare jobs logs ID prints the whole kept log.",
	}, "get job", resolveJob, get((*client.Client).Job), printJob)
}

func newJobLogsCmd() *cobra.Command {
	var server string
	var follow bool
	var offset int
	cmd := &cobra.Command{
		Use:     "logs ID",
		Aliases: []string{"log"},
		Short:   "Print a job's log; --follow streams new lines until the job finishes",
		Long: "Print a job's log. Raft keeps the newest 200 lines of each job; on a cluster\n" +
			"with an archive (--archive-url) a finished job's whole log is read from it.\n" +
			"With --follow, go on printing new lines until the job finishes, then say how\n" +
			"it finished on stderr.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, out := newClient(cmd, server), cmd.OutOrStdout()
			id, err := resolved(cmd.Context(), c, server, "get job logs", args[0], resolveJob)
			if err != nil {
				return err
			}
			if follow {
				end, err := c.FollowJobLogs(cmd.Context(), id, offset, func(l api.LogLine) error {
					return printLogLine(out, l)
				})
				if err != nil {
					return callError("follow job logs", server, err)
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "job %s %s\n", escapeCell(end.JobID), escapeText(describeEnd(end.State, end.Error)))
				return nil
			}
			return printAllLogs(cmd.Context(), c, server, id, offset, out)
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
	_, err := fmt.Fprintf(w, "%s %-5s %s\n", l.Time.Local().Format("2006-01-02 15:04:05.000"),
		escapeCell(strings.ToUpper(l.Level)), escapeCell(node+l.Message))
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
	var latest bool
	rerun := func(ctx context.Context, c *client.Client, id string) (api.Job, error) {
		return c.RerunJob(ctx, id, latest)
	}
	cmd := idCmd(&cobra.Command{
		Use:   "rerun ID",
		Short: "Queue a finished job again as a new job",
	}, "re-run job", resolveJob, rerun, func(w io.Writer, job api.Job) error {
		tw := newTable(w)
		row(tw, "Job:", job.ID)
		row(tw, "Re-run of:", job.RerunOf)
		row(tw, "Workflow:", fmt.Sprintf("%s (version %d)", job.WorkflowID, job.WorkflowVersion))
		return tw.Flush()
	})
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
			c := newClient(cmd, server)
			id, err := resolved(cmd.Context(), c, server, "cancel job", args[0], resolveJob)
			if err != nil {
				return err
			}
			job, err := c.CancelJob(cmd.Context(), id, reason)
			if err != nil {
				return callError("cancel job", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "job %s is %s\n", escapeCell(job.ID), escapeCell(job.State))
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&reason, "reason", "", "why the job is cancelled (kept as the job's error)")
	return cmd
}
