package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

func newSchedulesCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "schedules",
		Aliases: []string{"schedule"},
		Short:   "Create, list and control cron schedules of workflows",
	}
	cmd.AddCommand(
		newScheduleCreateCmd(), newSchedulesListCmd(), newScheduleGetCmd(),
		newScheduleActionCmd("enable"), newScheduleActionCmd("disable"),
		newScheduleActionCmd("trigger"), newScheduleActionCmd("delete"),
	)
	return cmd
}

func newScheduleCreateCmd() *cobra.Command {
	var flags *clientFlags
	var req api.ScheduleRequest
	var disabled bool
	var priority int
	var params []string
	cmd := &cobra.Command{
		Use:   "create WORKFLOW --cron EXPR",
		Short: "Create a cron schedule of a workflow",
		Long: "Create a schedule that queues a job of the workflow at every fire time of\n" +
			"the cron expression (5 fields, 6 with leading seconds, or a descriptor such as\n" +
			"@every 5m or @daily), read on the wall clock of --timezone. WORKFLOW is the\n" +
			"workflow's id, name or a unique prefix of its id. An expression that matches\n" +
			"no date (0 0 30 2 *) and an @every interval under 1s are refused.",
		Example: "  casare schedules create 0199… --cron '*/5 * * * *' --timezone Europe/Berlin --overlap forbid",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			c := newClient(cmd, flags.server)
			var err error
			if req.WorkflowID, err = resolved(cmd.Context(), c, flags.server, "create schedule", args[0], resolveWorkflow); err != nil {
				return err
			}
			enabled := !disabled
			req.Enabled = &enabled
			if cmd.Flags().Changed("priority") {
				req.Priority = &priority
			}
			if req.Params, err = parseParams(params); err != nil {
				return err
			}
			sc, err := c.CreateSchedule(cmd.Context(), req)
			if err != nil {
				return callError("create schedule", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), sc)
			}
			return printSchedule(cmd.OutOrStdout(), sc)
		},
	}
	flags = addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&req.Cron, "cron", "", "cron expression, such as '*/5 * * * *' or '@daily' (required)")
	f.StringVar(&req.Timezone, "timezone", "UTC", "IANA time zone the expression is read in, such as Europe/Berlin")
	f.StringVar(&req.Misfire, "misfire", "run_all", "fire times missed while no leader could fire them: run_all, run_once or skip")
	f.StringVar(&req.Overlap, "overlap", "allow", "a fire while the previous job is queued or running: allow or forbid")
	f.StringVar(&req.CatchupWindow, "catchup-window", "1h", "how far back missed fire times are caught up")
	f.BoolVar(&disabled, "disabled", false, "create the schedule disabled")
	f.IntVar(&priority, "priority", 5, "priority of its jobs, 0 (lowest) to 9 (highest)")
	f.StringVar(&req.ExecutionMode, "mode", "any", "which robots may run its jobs: lan, internet or any")
	f.StringArrayVar(&params, "param", nil, "job parameter key=value (string) or key:=JSON; repeatable")
	f.StringSliceVar(&req.RobotTags, "robot-tag", nil, "only robots with this tag run its jobs; repeatable")
	cobra.CheckErr(cmd.MarkFlagRequired("cron"))
	return cmd
}

func newSchedulesListCmd() *cobra.Command {
	var flags *clientFlags
	var workflow string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List schedules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			c := newClient(cmd, flags.server)
			if workflow != "" {
				var err error
				if workflow, err = resolved(cmd.Context(), c, flags.server, "list schedules", workflow, resolveWorkflow); err != nil {
					return err
				}
			}
			list, err := c.Schedules(cmd.Context(), workflow)
			if err != nil {
				return callError("list schedules", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "ID", "WORKFLOW", "CRON", "TIMEZONE", "ENABLED", "NEXT RUN", "LAST RUN")
			for _, sc := range list.Schedules {
				row(tw, sc.ID, sc.WorkflowID, sc.Cron, sc.Timezone, mark(sc.Enabled), formatTime(sc.NextRun), formatTime(sc.LastRun))
			}
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	cmd.Flags().StringVar(&workflow, "workflow", "", "only this workflow's schedules (id, name or unique id prefix)")
	return cmd
}

func newScheduleGetCmd() *cobra.Command {
	return idCmd(&cobra.Command{
		Use:   "get ID",
		Short: "Show a schedule, its next run and its fire history",
	}, "get schedule", resolveSchedule, get((*client.Client).Schedule), printSchedule)
}

func printSchedule(w io.Writer, sc api.Schedule) error {
	tw := newTable(w)
	row(tw, "ID:", sc.ID)
	row(tw, "Workflow:", sc.WorkflowID)
	row(tw, "Cron:", sc.Cron)
	row(tw, "Timezone:", sc.Timezone)
	row(tw, "Enabled:", mark(sc.Enabled))
	row(tw, "Next run:", formatTime(sc.NextRun))
	row(tw, "Last run:", formatTime(sc.LastRun))
	row(tw, "Misfire:", fmt.Sprintf("%s (catch-up window %s)", sc.Misfire, sc.CatchupWindow))
	row(tw, "Overlap:", sc.Overlap)
	row(tw, "Job:", fmt.Sprintf("priority %d, mode %s, %d attempts, params %s", sc.Priority, sc.ExecutionMode, sc.MaxAttempts, sc.Params))
	if len(sc.RobotTags) > 0 {
		row(tw, "Robot tags:", strings.Join(sc.RobotTags, ","))
	}
	if len(sc.History) > 0 {
		row(tw)
		row(tw, "FIRE TIME", "JOB", "SKIPPED", "MANUAL")
		for _, f := range sc.History {
			row(tw, formatTime(f.FireTime), orDash(f.JobID), orDash(f.Skipped), mark(f.Manual))
		}
	}
	return tw.Flush()
}

// newScheduleActionCmd makes "schedules enable|disable|trigger|delete ID".
func newScheduleActionCmd(action string) *cobra.Command {
	var server string
	short := map[string]string{
		"enable":  "Enable a schedule; it fires from now on",
		"disable": "Disable a schedule",
		"trigger": "Queue one job of a schedule now",
		"delete":  "Delete a schedule; the jobs it made stay",
	}[action]
	cmd := &cobra.Command{
		Use:   action + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClient(cmd, server)
			id, err := resolved(cmd.Context(), c, server, action+" schedule", args[0], resolveSchedule)
			if err != nil {
				return err
			}
			msg, err := runScheduleAction(cmd, c, action, id)
			if err != nil {
				return callError(action+" schedule", server, err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), msg)
			return err
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}

// runScheduleAction carries out action and says what it did.
func runScheduleAction(cmd *cobra.Command, c *client.Client, action, id string) (string, error) {
	ctx := cmd.Context()
	switch action {
	case "enable":
		sc, err := c.EnableSchedule(ctx, id)
		return fmt.Sprintf("schedule %s enabled; next run %s", id, formatTime(sc.NextRun)), err
	case "disable":
		_, err := c.DisableSchedule(ctx, id)
		return fmt.Sprintf("schedule %s disabled", id), err
	case "trigger":
		fired, err := c.TriggerSchedule(ctx, id)
		return fmt.Sprintf("schedule %s queued job %s", id, fired.JobID), err
	default:
		return fmt.Sprintf("deleted schedule %s", id), c.DeleteSchedule(ctx, id)
	}
}
