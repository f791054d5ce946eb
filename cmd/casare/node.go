package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
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
	f.StringVar(&cfg.BindAddr, "bind", "127.0.0.1", "address the REST API and dashboard listen on")
	f.StringVar(&cfg.ClusterBindAddr, "cluster-bind", "", "address of the cluster port (Raft and internal calls, mutual TLS) and of gossip (default: --bind)")
	f.StringVar(&cfg.QUICBindAddr, "quic-bind", "", "address the internet robots' QUIC gateway listens on (default: --bind)")
	f.StringVar(&cfg.AdvertiseAddr, "advertise", "", "address peers use to reach this node's cluster port and gossip (default: --cluster-bind)")
	f.IntVar(&cfg.HTTPPort, "http-port", node.DefaultHTTPPort, "REST API and dashboard port")
	f.IntVar(&cfg.RaftPort, "raft-port", node.DefaultRaftPort, "cluster port: Raft and the internal endpoints, mutual TLS with node certificates")
	f.IntVar(&cfg.GossipPort, "gossip-port", node.DefaultGossipPort, "gossip (memberlist) port, TCP and UDP, encrypted with the cluster's gossip key")
	f.IntVar(&cfg.QUICPort, "quic-port", node.DefaultQUICPort, "QUIC port for internet robots")
	f.BoolVar(&cfg.Server, "server", true, "hold Raft state (false: a robot-only member)")
	f.BoolVar(&cfg.Robot, "robot", true, "run jobs on this node")
	f.IntVar(&cfg.Voters, "voters", 3, "number of Raft voters the cluster keeps")
	f.DurationVar(&cfg.DeadServerGrace, "dead-server-grace", 30*time.Second, "how long a server may be dead before it is removed from Raft")
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
	var tokenFile string
	cmd := &cobra.Command{
		Use:   "join ADDR",
		Short: "Start a node that joins the cluster of the node whose HTTP address is ADDR",
		Long: `Starts a node that joins the cluster of the node whose API address is ADDR.
A first join needs the cluster's join token (the first node wrote it to
<data-dir>/join.token): --join-token-file FILE, $CASARE_JOIN_TOKEN or
--join-token (which shows in shell history and ps). The token carries the
cluster CA's fingerprint, so the joiner checks the cluster it dials before
it sends the secret. A restart uses the certificate the join stored in
--data-dir and needs no token: the same command line works for both.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Join = args[0]
			tok, err := joinToken(cfg.JoinToken, tokenFile)
			if err != nil {
				return err
			}
			cfg.JoinToken = tok
			return runNode(cmd, cfg)
		},
	}
	addNodeFlags(cmd, &cfg)
	cmd.Flags().StringVar(&cfg.JoinToken, "join-token", "", "the cluster's join token (prefer --join-token-file or $CASARE_JOIN_TOKEN)")
	cmd.Flags().StringVar(&tokenFile, "join-token-file", "", "file holding the cluster's join token")
	return cmd
}

// joinToken picks the join token from the flag, the file, or
// $CASARE_JOIN_TOKEN, in that order.
func joinToken(flag, file string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read --join-token-file: %w", err)
		}
		return strings.TrimSpace(string(data)), nil
	}
	return os.Getenv("CASARE_JOIN_TOKEN"), nil
}

func runNode(cmd *cobra.Command, cfg node.Config) error {
	cfg.Logger = slog.Default()
	if !cfg.Server && cfg.Join == "" {
		return fmt.Errorf("--server=false needs a cluster to join: use 'casare node join ADDR --server=false'")
	}
	if err := checkRobotFlags(cfg.Name, cfg.Tags); err != nil {
		return err
	}
	tuning := node.TuneRuntime()
	cfg.Logger.Info("runtime tuned for a node process", "settings", tuning.String())
	n, err := node.Start(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	return n.Run(cmd.Context())
}

// checkRobotFlags refuses a node or robot name or tag that the cluster
// would show raw to operators: control and bidirectional characters,
// bytes that are not UTF-8.
func checkRobotFlags(name string, tags []string) error {
	if err := api.CheckName("--name", name); err != nil {
		return err
	}
	return api.CheckNames("--tags", tags)
}

func newNodeLeaveCmd() *cobra.Command {
	var server, dataDir string
	cmd := &cobra.Command{
		Use:   "leave",
		Short: "Ask the node at --server to leave the cluster gracefully and stop",
		Long: `Asks the node at --server to leave the cluster gracefully and stop. The
request goes to the node's cluster port with the node's own certificate
from --data-dir, so run it on the node's machine (or send the node SIGTERM).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := node.LocalClusterClient(cmd.Context(), dataDir, server)
			if err != nil {
				return fmt.Errorf("leave: %w", err)
			}
			if err := c.Leave(cmd.Context()); err != nil {
				return fmt.Errorf("leave: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "node is leaving the cluster")
			return nil
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&dataDir, "data-dir", "casare-data", "data dir of the node at --server (its certificate authenticates the request)")
	return cmd
}
