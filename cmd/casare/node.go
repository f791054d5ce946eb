package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/node"
)

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a cluster node: start a new cluster, join one, or leave",
	}
	cmd.AddCommand(newNodeStartCmd(), newNodeJoinCmd(), newNodeLeaveCmd())
	return cmd
}

// addNodeFlags registers the flags shared by start and join; the same
// command line works for a first boot and for a restart on the same
// data dir.
func addNodeFlags(cmd *cobra.Command, cfg *node.Config) {
	host, _ := os.Hostname()
	f := cmd.Flags()
	f.StringVar(&cfg.Name, "name", host, "node name, unique in the cluster (also its Raft server id and LAN robot id)")
	f.StringVar(&cfg.DataDir, "data-dir", "casare-data", "directory for Raft state and snapshots")
	f.StringVar(&cfg.BindAddr, "bind", "127.0.0.1", "address every listener binds to (the API is unauthenticated: keep it on loopback)")
	f.StringVar(&cfg.AdvertiseAddr, "advertise", "", "address peers use to reach this node (default: --bind)")
	f.IntVar(&cfg.HTTPPort, "http-port", node.DefaultHTTPPort, "REST API and dashboard port")
	f.IntVar(&cfg.RaftPort, "raft-port", node.DefaultRaftPort, "Raft port")
	f.IntVar(&cfg.GossipPort, "gossip-port", node.DefaultGossipPort, "gossip (memberlist) port, TCP and UDP")
	f.IntVar(&cfg.QUICPort, "quic-port", node.DefaultQUICPort, "QUIC port for internet robots")
	f.BoolVar(&cfg.Server, "server", true, "hold Raft state (false: a robot-only member)")
	f.BoolVar(&cfg.Robot, "robot", true, "run jobs on this node")
	f.IntVar(&cfg.Voters, "voters", 3, "number of Raft voters the cluster keeps")
	f.DurationVar(&cfg.DeadServerGrace, "dead-server-grace", 30*time.Second, "how long a server may be dead before it is removed from Raft")
	f.IntVar(&cfg.SnapshotEntries, "snapshot-entries", 0, "snapshot Raft state after this many entries and keep as many for lagging followers (0: Raft's defaults, 8192 and 10240); a follower further behind catches up from the snapshot")
	f.StringSliceVar(&cfg.Tags, "tags", nil, "robot tags, comma separated")
	f.IntVar(&cfg.Capacity, "capacity", 4, "jobs this node's robot runs at once")
}

func newNodeStartCmd() *cobra.Command {
	var cfg node.Config
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a node; with a new data dir it bootstraps a one-server cluster",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runNode(cmd, cfg)
		},
	}
	addNodeFlags(cmd, &cfg)
	return cmd
}

func newNodeJoinCmd() *cobra.Command {
	var cfg node.Config
	cmd := &cobra.Command{
		Use:   "join ADDR",
		Short: "Start a node that joins the cluster of the node whose HTTP address is ADDR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Join = args[0]
			return runNode(cmd, cfg)
		},
	}
	addNodeFlags(cmd, &cfg)
	return cmd
}

func runNode(cmd *cobra.Command, cfg node.Config) error {
	cfg.Logger = slog.Default()
	if !cfg.Server && cfg.Join == "" {
		return fmt.Errorf("--server=false needs a cluster to join: use 'casare node join ADDR --server=false'")
	}
	tuning := node.TuneRuntime()
	cfg.Logger.Info("runtime tuned for a node process", "settings", tuning.String())
	n, err := node.Start(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	return n.Run(cmd.Context())
}

func newNodeLeaveCmd() *cobra.Command {
	var server string
	cmd := &cobra.Command{
		Use:   "leave",
		Short: "Ask the node at --server to leave the cluster gracefully and stop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := newClient(server)
			if err := c.Leave(cmd.Context()); err != nil {
				return fmt.Errorf("leave: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "node is leaving the cluster")
			return nil
		},
	}
	addServerFlag(cmd, &server)
	return cmd
}
