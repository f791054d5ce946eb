package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// leaderPoll is how often status asks again while the node knows no
// leader; an election on a LAN takes about a second.
const leaderPoll = 100 * time.Millisecond

func newStatusCmd() *cobra.Command {
	var flags *clientFlags
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the cluster: leader, Raft servers, gossip members, applied index",
		Long: "Show the cluster: leader, Raft servers, gossip members, applied index.\n" +
			"A node that has just started or joined knows no leader for a moment: status\n" +
			"waits up to --wait for one before it shows \"Leader: none known\".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := flags.check(); err != nil {
				return err
			}
			cluster, err := clusterWithLeader(cmd.Context(), newClient(cmd, flags.server), wait)
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
	cmd.Flags().DurationVar(&wait, "wait", 3*time.Second, "how long to wait for a leader when the node knows none yet (0: do not wait)")
	return cmd
}

// clusterWithLeader asks for the cluster's state until it names a leader
// or wait has passed, and returns the last answer.
func clusterWithLeader(ctx context.Context, c *client.Client, wait time.Duration) (api.Cluster, error) {
	deadline := time.Now().Add(wait)
	for {
		cluster, err := c.Cluster(ctx)
		// A node that knows no leader yet cannot check the credential
		// either (no_leader); it may learn both in a moment.
		waiting := cluster.Leader == nil && (err == nil || client.IsCode(err, "no_leader"))
		if !waiting || !time.Now().Before(deadline) {
			return cluster, err
		}
		select {
		case <-ctx.Done():
			return cluster, nil
		case <-time.After(min(leaderPoll, time.Until(deadline))):
		}
	}
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
	if a := c.Archive; a != nil {
		if a.Error != "" {
			row(tw, "Archive:", "unreachable: "+a.Error)
		} else {
			row(tw, "Archive:", fmt.Sprintf("archived to index %d, lag %d entries, %d jobs, %.1fs", a.ArchivedIndex, a.Lag, a.LagJobs, a.LagSeconds))
		}
	}
	if c.NotMember {
		row(tw, "Membership:", "not in the Raft configuration; rejoining (serves no data until caught up)")
	}
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
