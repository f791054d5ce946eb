package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

func newWorkflowsCmd() *cobra.Command {
	cmd := newWorkflowListCmd()
	cmd.Use = "workflows"
	cmd.Aliases = []string{"workflow", "wf"}
	cmd.Short = "List stored workflows; upload, get, list versions of or delete one"
	cmd.Long = "List stored workflows (the same as casare workflows list). Subcommands take a\n" +
		"workflow by id, by name or by a unique prefix of its id."
	cmd.AddCommand(newWorkflowListCmd(), newWorkflowUploadCmd(), newWorkflowGetCmd(), newWorkflowVersionsCmd(), newWorkflowDeleteCmd(),
		newWorkflowExportCmd(), newWorkflowImportCmd())
	return cmd
}

func newWorkflowListCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List stored workflows, sorted by name",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(cmd, flags.server).Workflows(cmd.Context())
			if err != nil {
				return callError("list workflows", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), list)
			}
			return printWorkflows(cmd.OutOrStdout(), list.Workflows)
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func printWorkflows(w io.Writer, wfs []api.WorkflowSummary) error {
	tw := newTable(w)
	row(tw, "ID", "NAME", "VERSION", "UPDATED", "TAGS")
	for _, wf := range wfs {
		row(tw, wf.ID, wf.Name, wf.LatestVersion, formatTime(wf.UpdatedAt), orDash(strings.Join(wf.Tags, ",")))
	}
	return tw.Flush()
}

func newWorkflowGetCmd() *cobra.Command {
	return idCmd(&cobra.Command{
		Use:   "get WORKFLOW",
		Short: "Show a workflow and its latest graph",
	}, "get workflow", resolveWorkflow, get((*client.Client).Workflow), printWorkflow)
}

func printWorkflow(w io.Writer, wf api.Workflow) error {
	tw := newTable(w)
	row(tw, "ID:", wf.ID)
	row(tw, "Name:", wf.Name)
	row(tw, "Version:", wf.LatestVersion)
	row(tw, "Checksum:", wf.Checksum)
	row(tw, "Tags:", orDash(strings.Join(wf.Tags, ",")))
	row(tw, "Created:", formatTime(wf.CreatedAt))
	row(tw, "Updated:", formatTime(wf.UpdatedAt))
	if err := tw.Flush(); err != nil {
		return err
	}
	var graph bytes.Buffer
	if err := json.Indent(&graph, wf.Graph, "  ", "  "); err != nil {
		return fmt.Errorf("format graph: %w", err)
	}
	_, err := fmt.Fprintf(w, "Graph:\n  %s\n", escapeText(graph.String()))
	return err
}

func newWorkflowVersionsCmd() *cobra.Command {
	return idCmd(&cobra.Command{
		Use:   "versions WORKFLOW",
		Short: "List every version of a workflow",
	}, "list workflow versions", resolveWorkflow, get((*client.Client).WorkflowVersions), func(w io.Writer, versions api.WorkflowVersions) error {
		tw := newTable(w)
		row(tw, "VERSION", "CHECKSUM", "CREATED")
		for _, v := range versions.Versions {
			row(tw, v.Version, v.Checksum[:min(12, len(v.Checksum))], formatTime(v.CreatedAt))
		}
		return tw.Flush()
	})
}

func newWorkflowDeleteCmd() *cobra.Command {
	var server string
	var force bool
	cmd := &cobra.Command{
		Use:   "delete WORKFLOW",
		Short: "Delete a workflow and all its versions",
		Long: "Delete a workflow and all its versions. A workflow with queued or running\n" +
			"jobs is kept unless --force is given, which cancels those jobs.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c := newClient(cmd, server)
			id, err := resolved(cmd.Context(), c, server, "delete workflow", args[0], resolveWorkflow)
			if err != nil {
				return err
			}
			if err := c.DeleteWorkflow(cmd.Context(), id, force); err != nil {
				return callError("delete workflow", server, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "deleted workflow %s\n", escapeCell(id))
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().BoolVar(&force, "force", false, "also cancel the workflow's queued and running jobs")
	return cmd
}
