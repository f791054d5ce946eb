package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
)

func newWorkflowsCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:     "workflows",
		Aliases: []string{"workflow", "wf"},
		Short:   "List stored workflows; get, list versions of or delete one",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			list, err := newClient(flags.server).Workflows(cmd.Context())
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
	cmd.AddCommand(newWorkflowGetCmd(), newWorkflowVersionsCmd(), newWorkflowDeleteCmd())
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
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a workflow and its latest graph",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			wf, err := newClient(flags.server).Workflow(cmd.Context(), args[0])
			if err != nil {
				return callError("get workflow", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), wf)
			}
			return printWorkflow(cmd.OutOrStdout(), wf)
		},
	}
	flags = addClientFlags(cmd)
	return cmd
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
	_, err := fmt.Fprintf(w, "Graph:\n  %s\n", graph.Bytes())
	return err
}

func newWorkflowVersionsCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "versions ID",
		Short: "List every version of a workflow",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			versions, err := newClient(flags.server).WorkflowVersions(cmd.Context(), args[0])
			if err != nil {
				return callError("list workflow versions", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), versions)
			}
			tw := newTable(cmd.OutOrStdout())
			row(tw, "VERSION", "CHECKSUM", "CREATED")
			for _, v := range versions.Versions {
				row(tw, v.Version, v.Checksum[:min(12, len(v.Checksum))], formatTime(v.CreatedAt))
			}
			return tw.Flush()
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func newWorkflowDeleteCmd() *cobra.Command {
	var server string
	var force bool
	cmd := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a workflow and all its versions",
		Long: "Delete a workflow and all its versions. A workflow with queued or running\n" +
			"jobs is kept unless --force is given, which cancels those jobs.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := newClient(server).DeleteWorkflow(cmd.Context(), args[0], force); err != nil {
				return callError("delete workflow", server, err)
			}
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "deleted workflow %s\n", args[0])
			return err
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().BoolVar(&force, "force", false, "also cancel the workflow's queued and running jobs")
	return cmd
}
