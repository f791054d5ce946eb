package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node"
	"github.com/casare/casare/node/robot"
)

type connectOptions struct {
	token    robotTokenSource
	name     string
	tags     []string
	capacity int
	workDir  string
	policy   robotPolicy
}

func newRobotConnectCmd() *cobra.Command {
	var opts connectOptions
	cmd := &cobra.Command{
		Use:   "connect ADDR[,ADDR...]",
		Short: "Run an internet robot: dial a node's QUIC port and run the jobs it pushes",
		Long: "Dials a node's QUIC port (host:port), authenticates with a robot token and runs\n" +
			"jobs whose execution_mode is internet or any. No inbound port is opened. When the\n" +
			"node dies the robot reconnects to the next address, or to one learned from the\n" +
			"cluster, and keeps its leases if it is back before they expire.\n\n" +
			"The token comes from --token-file or $" + envRobotToken + " (--token works but lands in shell\n" +
			"history and ps). It carries the cluster CA's fingerprint: a node whose certificate\n" +
			"is not from that CA is refused before the token is sent. The token may fix the\n" +
			"robot's name, tags and capacity; revoking it (or its expiry) stops the robot.\n" +
			"--deny-node-types, --allow-node-types and --file-root limit what it runs.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.token.env = os.Getenv(envRobotToken)
			return connectRobot(cmd.Context(), cmd.ErrOrStderr(), strings.Split(args[0], ","), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.token.file, "token-file", "", "file holding the robot token from 'casare robot token create' (or set env "+envRobotToken+")")
	f.StringVar(&opts.token.flag, "token", "", "robot token (discouraged: it lands in shell history and 'ps'; use --token-file or "+envRobotToken+")")
	f.StringVar(&opts.name, "name", "", "robot name, its id in the cluster (default: the name the token is bound to)")
	f.StringSliceVar(&opts.tags, "tags", nil, "robot tags, comma separated")
	f.IntVar(&opts.capacity, "capacity", 1, "jobs this robot runs at once")
	f.StringVar(&opts.workDir, "work-dir", ".", "directory workflows resolve relative paths against")
	opts.policy.register(f)
	return cmd
}

func connectRobot(ctx context.Context, warn io.Writer, addrs []string, opts connectOptions) error {
	token, err := opts.token.resolve(warn)
	if err != nil {
		return err
	}
	if err := checkRobotFlags(opts.name, opts.tags); err != nil {
		return err
	}
	engineOpts, err := opts.policy.engineOptions(executor.EngineOptions{Logger: slog.Default(), WorkDir: opts.workDir})
	if err != nil {
		return err
	}
	log := slog.Default()
	q, err := robot.NewTokenQueue(addrs, token,
		tunnel.Hello{Name: opts.name, Tags: opts.tags, Capacity: opts.capacity, Version: node.Version}, log)
	if err != nil {
		return fmt.Errorf("robot token: %w", err)
	}
	defer q.Close()
	// The first connection decides whether the token is good; a refused
	// robot must exit non-zero rather than retry forever.
	if err := q.Connect(ctx); err != nil {
		return err
	}
	id := q.Identity()
	warnOverridden(log, opts, id)
	log.Info("internet robot running", "robot", id.RobotID, "tags", id.Tags, "capacity", id.Capacity)
	// A token revoked or expired while the robot runs closes its tunnel;
	// the robot then stops at once, and exits with the reason.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-q.Refused():
			stop()
		case <-runCtx.Done():
		}
	}()
	r := robot.New(robot.Config{
		ID: id.RobotID, Kind: consensus.RobotInternet, Tags: id.Tags, Capacity: id.Capacity,
		Engine: executor.NewEngine(engineOpts),
		Logger: log, Abort: q.Refused(),
	}, q)
	r.Run(runCtx)
	if err := q.RefusedErr(); err != nil {
		return fmt.Errorf("the cluster shut this robot out: %w", err)
	}
	return nil
}

// warnOverridden says when the robot's token fixed its name, tags or
// capacity to something other than what its flags asked for.
func warnOverridden(log *slog.Logger, opts connectOptions, id tunnel.Identity) {
	if opts.name != "" && opts.name != id.RobotID {
		log.Warn("the robot token fixes this robot's name; --name is ignored", "name", id.RobotID, "asked", opts.name)
	}
	if len(opts.tags) > 0 && !slices.Equal(opts.tags, id.Tags) {
		log.Warn("the robot token fixes this robot's tags; --tags is ignored", "tags", id.Tags, "asked", opts.tags)
	}
	if opts.capacity != id.Capacity {
		log.Warn("the robot token fixes this robot's capacity; --capacity is ignored", "capacity", id.Capacity, "asked", opts.capacity)
	}
}
