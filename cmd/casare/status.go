package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
)

func newStatusCmd() *cobra.Command {
	var flags *clientFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster: leader, Raft servers, gossip members, applied index",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			cluster, err := newClient(cmd, flags.server).Cluster(cmd.Context())
			if err != nil {
				return callError("status", flags.server, err)
			}
			if flags.json() {
				return printJSON(cmd.OutOrStdout(), cluster)
			}
			return printCluster(cmd.OutOrStdout(), cluster)
		},
	}
	flags = addClientFlags(cmd)
	return cmd
}

func printCluster(w io.Writer, c api.Cluster) error {
	leader := "none known"
	if c.Leader != nil {
		leader = c.Leader.Name
		if c.Leader.HTTPAddr != "" {
			leader += " (" + c.Leader.HTTPAddr + ")"
		}
	}
	tw := newTable(w)
	row(tw, "Node:", c.Node)
	row(tw, "Leader:", leader)
	row(tw, "Raft state:", fmt.Sprintf("%s, term %d", c.RaftState, c.Term))
	row(tw, "Applied index:", c.AppliedIndex)
	row(tw)
	row(tw, "SERVER", "RAFT ADDRESS", "HTTP ADDRESS", "VOTER", "ALIVE", "LEADER")
	for _, s := range c.Servers {
		leaderMark := ""
		if s.Leader {
			leaderMark = "*"
		}
		row(tw, s.Name, s.RaftAddr, orDash(s.HTTPAddr), mark(s.Voter), mark(s.Alive), leaderMark)
	}
	if len(c.Members) > 0 {
		row(tw)
		row(tw, "MEMBER", "STATE", "ROLES", "HTTP ADDRESS")
		for _, m := range c.Members {
			row(tw, m.Name, m.State, orDash(strings.Join(m.Roles, ",")), orDash(m.HTTPAddr))
		}
	}
	return tw.Flush()
}
