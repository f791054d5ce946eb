//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// flushDisk writes the kernel's dirty pages out (sync(2)).
func flushDisk() { syscall.Sync() }

func setRecvBuffer(fd uintptr, bytes int) error {
	return syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, bytes)
}

// raiseFileLimit lifts this process's open-file limit to its hard limit:
// every simulated robot holds a UDP socket of its own.
func raiseFileLimit() error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read the open-file limit: %w", err)
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raise the open-file limit to %d: %w", lim.Max, err)
	}
	return nil
}
