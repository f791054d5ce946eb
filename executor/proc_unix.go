//go:build unix

package executor

import (
	"os/exec"
	"syscall"
)

// killProcessGroup makes cancellation kill the command's whole process
// group: a shell command line often runs its work in child processes that
// would otherwise survive a cancelled or timed-out node.
func killProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
