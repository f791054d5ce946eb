package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
)

// newOperatorCmd groups the commands that change the cluster's own
// configuration by hand, for when the automatic rules stop short.
func newOperatorCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Change the cluster's configuration by hand (servers that are gone for good)",
	}
	cmd.AddCommand(newRemoveServerCmd(), newGossipKeyCmd(), newSnapshotCmd())
	return cmd
}

func newRemoveServerCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "remove-server NAME",
		Short: "Remove a server that is gone for good from the Raft configuration",
		Long: `Remove a server that is gone for good from the Raft configuration.

The leader removes a dead server by itself only when gossip and Raft agree
it has been gone for --dead-server-grace, and never when that would leave
fewer voters than --voters with no live non-voter to promote. This command
is for that last case: a voter whose machine will not come back.

The leader refuses a server that is still alive (gossip and Raft both reach
it): a running server rejoins by itself, so take it out with
'casare node leave' on it instead. When the removal would leave fewer
voters than --voters, a live non-voter is promoted first if there is one.
Removing the last voter is refused.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			resp, err := newClient(cmd, flags.server).RemoveServer(cmd.Context(), args[0])
			if err != nil {
				return callError("remove server "+args[0], flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), resp)
			}
			printRemoval(cmd.OutOrStdout(), resp)
			return nil
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func printRemoval(w io.Writer, r api.RemoveServerResponse) {
	if r.Promoted != "" {
		fmt.Fprintf(w, "promoted %s to voter\n", r.Promoted)
	}
	fmt.Fprintf(w, "removed %s; %d voters remain\n", r.Removed, r.Voters)
}
