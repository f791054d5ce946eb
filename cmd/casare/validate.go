package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/casare/casare/executor"
)

func newValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Check a workflow file without running it",
		Long: "Check the workflow in FILE: node types, required and well-typed config\n" +
			"fields, expressions, connections, a single start node, reachability and\n" +
			"cycles. Prints one line per problem, naming the node and the field, and\n" +
			"exits with status 1 when there is any.",
		Example: "  casare validate invoice.json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			w, err := executor.ParseAndValidate(data)
			out := cmd.OutOrStdout()
			var verr *executor.ValidationError
			switch {
			case errors.As(err, &verr):
				for _, p := range verr.Problems {
					fmt.Fprintln(out, escapeText(fmt.Sprint(p)))
				}
				return exitError{code: 1, msg: fmt.Sprintf("%s: %d problem(s)", path, len(verr.Problems))}
			case err != nil:
				fmt.Fprintln(out, escapeText(err.Error()))
				return exitError{code: 1}
			}
			fmt.Fprintf(out, "%s: valid (%d nodes, %d connections)\n", path, len(w.Nodes), len(w.Connections))
			return nil
		},
	}
}
