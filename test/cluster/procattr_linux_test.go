//go:build unix

package cluster

import "syscall"

// procAttr makes the kernel kill a node if the test binary dies, so a
// crashed or timed-out test run leaves no cluster behind.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
