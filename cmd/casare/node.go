package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/casare/casare/api"
	"github.com/casare/casare/internal/gctune"
	"github.com/casare/casare/internal/hugepages"
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
		Long: "Start a node; with a new data dir it bootstraps a one-server cluster.\n\n" +
			"A first start creates the cluster's CA and this node's certificate (<data-dir>/tls), the\n" +
			"join token that other nodes join with (<data-dir>/join.token, 0600) and the gossip key\n" +
			"(<data-dir>/gossip.keys, 0600), and prints where they are and the join command line.\n\n" +
			nodeSettingsHelp,
		Args: cobra.NoArgs,
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

// joinHelp says how a joiner is admitted.
const joinHelp = `A first join needs the cluster's join token (the first node wrote it to
<data-dir>/join.token): --join-token-file FILE, $CASARE_JOIN_TOKEN or
--join-token (which shows in shell history and ps). The token carries the
cluster CA's fingerprint, so the joiner checks the cluster it dials before
it sends the secret. A restart uses the certificate the join stored in
--data-dir and needs no token: the same command line works for both.`

func newNodeJoinCmd() *cobra.Command {
	var flags *nodeFlags
	var token, tokenFile string
	cmd := &cobra.Command{
		Use:   "join ADDR",
		Short: "Start a node that joins the cluster of the node whose HTTP address is ADDR",
		Long:  "Start a node that joins the cluster of the node whose HTTP address is ADDR.\n\n" + joinHelp + "\n\n" + nodeSettingsHelp,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := flags.load(os.Environ())
			if err != nil {
				return err
			}
			cfg.Join = args[0]
			cfg.JoinToken, cfg.JoinTokenFile = joinToken(token, tokenFile)
			return runNode(cmd, cfg)
		},
	}
	flags = newNodeFlags(cmd.Flags(), hostname())
	cmd.Flags().StringVar(&token, "join-token", "", "the cluster's join token (prefer --join-token-file or $CASARE_JOIN_TOKEN)")
	cmd.Flags().StringVar(&tokenFile, "join-token-file", "", "file holding the cluster's join token")
	return cmd
}

// joinToken picks the join token from the flag, the file (which the node
// reads, waiting for it if it is not there yet), or $CASARE_JOIN_TOKEN,
// in that order.
func joinToken(flag, file string) (token, tokenFile string) {
	switch {
	case flag != "":
		return flag, ""
	case file != "":
		return "", file
	}
	return os.Getenv("CASARE_JOIN_TOKEN"), ""
}

// hostname is the default node name: unique on a LAN as a rule.
func hostname() string {
	host, _ := os.Hostname()
	return host
}

func runNode(cmd *cobra.Command, cfg node.Config) error {
	cfg.Logger = slog.Default()
	cfg.BootstrapOut = cmd.ErrOrStderr()
	if !cfg.Server && cfg.Join == "" {
		return fmt.Errorf("--server=false needs a cluster to join: use 'casare node join ADDR --server=false'")
	}
	if err := checkRobotFlags(cfg.Name, cfg.Tags); err != nil {
		return err
	}
	premapHeap(cfg.Logger)
	if cfg.PprofAddr != "" {
		_, stop, err := servePprof(cmd.Context(), cfg.PprofAddr, cfg.Logger)
		if err != nil {
			return err
		}
		defer stop()
	}
	tuning := node.TuneRuntime()
	cfg.Logger.Info("runtime tuned for a node process", "settings", tuning.String())
	if tuning.GCPercent >= 0 {
		// Keep GOGC from multiplying a large live heap (a million
		// queued jobs) into gigabytes of RSS.
		ctx, stop := context.WithCancel(cmd.Context())
		defer stop()
		go gctune.Run(ctx, node.GCTuning(tuning))
	}
	n, err := node.Start(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	return n.Run(cmd.Context())
}

// premapHeap has the heap grow into huge pages (internal/hugepages). It
// runs once, first: a free span at the top of the heap would make the
// runtime zero the stretch, and the GOGC tuner would see the stretch as
// live heap.
func premapHeap(log *slog.Logger) {
	premap := node.HeapPremap()
	switch err := hugepages.Premap(premap); {
	case errors.Is(err, hugepages.ErrNotAdvised):
		log.Info("heap not premapped on huge pages", "reason", err)
	case err != nil:
		log.Warn("heap not premapped on huge pages", "err", err)
	default:
		log.Info("heap premapped on huge pages (GODEBUG=disablethp=1 turns this off)", "MiB", premap>>20)
	}
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
	cmd.Flags().StringVar(&dataDir, "data-dir", node.DefaultDataDir, "data dir of the node at --server (its certificate authenticates the request)")
	return cmd
}
