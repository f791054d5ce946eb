package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api/client"
)

func newWorkflowUploadCmd() *cobra.Command {
	var flags *clientFlags
	var up client.Upload
	var priority int
	var job jobOptions
	cmd := &cobra.Command{
		Use:   "upload FILE",
		Short: "Store a workflow file of up to 8 MiB, as a multipart upload",
		Long: "Store the workflow in FILE through POST /api/v1/workflows/upload, which takes\n" +
			"files of up to 8 MiB (casare submit sends JSON, limited to 1 MiB). The file is\n" +
			"stored as a new version if its graph changed. With --trigger manual a job is\n" +
			"queued for it too, with the same job options as casare submit; casare jobs\n" +
			"list --workflow NAME shows it.",
		Example: "  casare workflows upload big-invoice-run.json\n" +
			"  casare workflows upload big-invoice-run.json --name invoices --trigger manual --mode lan --tag sap --param month=5",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("read workflow: %w", err)
			}
			defer f.Close()
			up.File, up.FileName = f, filepath.Base(args[0])
			if cmd.Flags().Changed("priority") {
				up.Priority = &priority
			}
			if err := job.toUpload(&up, cmd.Flags().Changed("max-attempts"), time.Now()); err != nil {
				return err
			}
			created, err := newClient(cmd, flags.server).UploadWorkflow(cmd.Context(), up)
			if err != nil {
				return callError("upload "+args[0], flags.server, err)
			}
			return printSubmitted(cmd.OutOrStdout(), flags, created, up.WorkflowName)
		},
	}
	flags = addClientFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&up.WorkflowName, "name", "", "workflow name (default: the file's name field, else the file name)")
	f.StringVar(&up.TriggerType, "trigger", "none", "none (only store it) or manual (also queue a job)")
	f.StringVar(&up.ExecutionMode, "mode", "", "with --trigger manual, which robots may run the job: lan, internet or any")
	f.IntVar(&priority, "priority", 5, "with --trigger manual, job priority, 0 (lowest) to 9 (highest)")
	addJobFlags(cmd, &job)
	return cmd
}

// toUpload sets the job options of an upload with a manual trigger.
func (j jobOptions) toUpload(up *client.Upload, maxAttemptsSet bool, now time.Time) error {
	params, err := parseParams(j.params)
	if err != nil {
		return err
	}
	up.Params, up.UniqueKey, up.RobotTags, up.PinnedRobot, up.Backoff = params, j.uniqueKey, j.tags, j.robot, j.backoff
	if maxAttemptsSet {
		up.MaxAttempts = &j.maxAttempts
	}
	up.NotBefore, up.Deadline, err = j.window(now)
	return err
}
