package main

import (
	"fmt"
	"log/slog"
	"os"

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

// nodeSettingsHelp is the part of start's and join's help that says
// where settings come from.
const nodeSettingsHelp = `Settings come from, in this order of precedence: flags, environment
variables ` + nodeEnvPrefix + `<FLAG> (upper case, '_' for '-', e.g.
` + nodeEnvPrefix + `HTTP_PORT=8081), a YAML file given with --config (keys are the
flag names, e.g. "http-port: 8081"), and the defaults below. An unknown
key or variable is an error. The same settings work for a first boot and
for a restart on the same data dir.`

func newNodeStartCmd() *cobra.Command {
	var flags *nodeFlags
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Start a node; with a new data dir it bootstraps a one-server cluster",
		Long:  "Start a node; with a new data dir it bootstraps a one-server cluster.\n\n" + nodeSettingsHelp,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := flags.load(os.Environ())
			if err != nil {
				return err
			}
			return runNode(cmd, cfg)
		},
	}
	flags = newNodeFlags(cmd.Flags(), hostname())
	return cmd
}

func newNodeJoinCmd() *cobra.Command {
	var flags *nodeFlags
	cmd := &cobra.Command{
		Use:   "join ADDR",
		Short: "Start a node that joins the cluster of the node whose HTTP address is ADDR",
		Long:  "Start a node that joins the cluster of the node whose HTTP address is ADDR.\n\n" + nodeSettingsHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := flags.load(os.Environ())
			if err != nil {
				return err
			}
			cfg.Join = args[0]
			return runNode(cmd, cfg)
		},
	}
	flags = newNodeFlags(cmd.Flags(), hostname())
	return cmd
}

// hostname is the default node name: unique on a LAN as a rule.
func hostname() string {
	host, _ := os.Hostname()
	return host
}

func runNode(cmd *cobra.Command, cfg node.Config) error {
	cfg.Logger = slog.Default()
	cfg.Stdout = cmd.OutOrStdout()
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
	var server string
	cmd := &cobra.Command{
		Use:   "leave",
		Short: "Ask the node at --server to leave the cluster gracefully and stop",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := newClient(cmd, server)
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
