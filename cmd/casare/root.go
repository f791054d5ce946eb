package main

import (
	"github.com/spf13/cobra"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "casare",
		Short:         "Casare: a peer-to-peer robot mesh for robotic process automation",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	addLogFlags(root)
	root.AddCommand(
		newNodeCmd(), newOperatorCmd(),
		// Each command lives in its own file; register it here.
		newRunCmd(), newValidateCmd(), newNodesCmd(),
		newStatusCmd(),
		newWorkflowsCmd(),
		newJobsCmd(),
		newSubmitCmd(),
		newQueueCmd(),
		newSchedulesCmd(),
		newRobotsCmd(), newRobotCmd(newRobotConnectCmd()),
		newSecretsCmd(), newTokensCmd(), newDashboardCmd(),
	)
	return root
}
