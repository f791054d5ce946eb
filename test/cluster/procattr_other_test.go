//go:build unix && !linux

package cluster

import "syscall"

// procAttr has no parent-death signal outside Linux; the harness's
// cleanups and per-process deadline still stop every node.
func procAttr() *syscall.SysProcAttr { return nil }
