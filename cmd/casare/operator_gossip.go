package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/casare/casare/node"
)

// newGossipKeyCmd manages the key that encrypts gossip.
func newGossipKeyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "gossip-key", Short: "Manage the key that encrypts gossip (run on a node's machine: it uses the node's certificate)"}
	cmd.AddCommand(newGossipKeyRotateCmd())
	return cmd
}

func newGossipKeyRotateCmd() *cobra.Command {
	var server, dataDir string
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Install a new gossip key on every live member, switch to it, and remove the old one",
		Long: `Rotates the gossip encryption key without downtime: the new key is
installed on every live member, then every member switches to it, then the
old key is removed. The command asks the node at --server, and proves it
may by presenting that node's certificate from --data-dir; run it on the
node's machine. Members that are down during a rotation keep the old key
and cannot rejoin gossip until they get the new one (join them again).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := node.LocalClusterClient(cmd.Context(), dataDir, server)
			if err != nil {
				return err
			}
			res, err := node.RotateGossipKeyVia(cmd.Context(), c)
			if err != nil {
				return fmt.Errorf("rotate gossip key: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "gossip key rotated on %d members: %s\n", len(res.Members), strings.Join(res.Members, ", "))
			if len(res.Skipped) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "not alive, still on the old key: %s\n", strings.Join(res.Skipped, ", "))
			}
			return nil
		},
	}
	addServerFlag(cmd, &server)
	cmd.Flags().StringVar(&dataDir, "data-dir", "casare-data", "data dir of the node at --server (its certificate authenticates this command)")
	return cmd
}
