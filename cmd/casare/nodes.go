package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/casare/casare/executor"
)

func newNodesCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "nodes [TYPE]",
		Short: "List the node types a workflow can use, with their config fields",
		Long: "Print every node type, or only TYPE, with its description, output ports and\n" +
			"config fields. Fields other than expressions and inline workflows accept\n" +
			"{{ expression }} templates. Every node also takes timeout and retry beside\n" +
			"its config; the end of the list says what they take and which variables a\n" +
			"connected error port sets.",
		Example: "  casare nodes\n  casare nodes http_request\n  casare nodes --output json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: want text or json", output)
			}
			types := executor.NodeTypes()
			if len(args) == 1 {
				t, ok := executor.LookupNodeType(args[0])
				if !ok {
					return exitError{code: 1, msg: fmt.Sprintf("unknown node type %q; run `casare nodes` for the list", args[0])}
				}
				types = []executor.NodeType{t}
			}
			out := cmd.OutOrStdout()
			if output == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(types)
			}
			for i, t := range types {
				if i > 0 {
					fmt.Fprintln(out)
				}
				if err := printNodeType(out, t); err != nil {
					return err
				}
			}
			fmt.Fprintln(out)
			return printCommonFields(out)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func printNodeType(w io.Writer, t executor.NodeType) error {
	fmt.Fprintf(w, "%s (%s)\n", t.Name, t.Category)
	fmt.Fprintf(w, "  %s\n", t.Description)
	fmt.Fprintf(w, "  ports: %s\n", describePorts(t))
	if len(t.Fields) == 0 {
		fmt.Fprintln(w, "  config: none")
		return nil
	}
	fmt.Fprintln(w, "  config:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range t.Fields {
		need := "optional"
		switch {
		case f.Required:
			need = "required"
		case f.Default != "":
			need = "default " + f.Default
		}
		desc := f.Description
		if len(f.Enum) > 0 {
			desc += " (one of: " + strings.Join(f.Enum, ", ") + ")"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\n", f.Name, f.Type, need, desc)
	}
	return tw.Flush()
}

// printCommonFields documents what every node takes beside its config,
// and what a failure handler sees.
func printCommonFields(w io.Writer) error {
	fmt.Fprintln(w, "every node, beside config:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range executor.CommonFields() {
		fmt.Fprintf(tw, "    %s\t%s\toptional\t%s\n", f.Name, f.Type, f.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, `  example: {"id": "fetch", "type": "http_request", "config": {...}, "timeout": "30s", "retry": {"max": 3, "backoff": "2s"}}`)
	fmt.Fprintln(w, "  a failure that reaches a connected error port sets the variables:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, v := range executor.ErrorVariables() {
		fmt.Fprintf(tw, "    %s\t%s\n", v[0], v[1])
	}
	return tw.Flush()
}

func describePorts(t executor.NodeType) string {
	var ports []string
	for _, p := range t.Ports {
		ports = append(ports, cmp.Or(p, "next (no port)"))
	}
	if t.ErrorPort {
		ports = append(ports, "error")
	}
	if len(ports) == 0 {
		return "none (ends the run)"
	}
	return strings.Join(ports, ", ")
}
