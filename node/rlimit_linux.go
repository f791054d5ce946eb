//go:build linux

package node

import "syscall"

// addressSpaceLimit returns the process's RLIMIT_AS (ulimit -v) in bytes,
// or noAddressSpaceLimit.
func addressSpaceLimit() uint64 {
	var as syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_AS, &as) != nil {
		return noAddressSpaceLimit
	}
	return uint64(as.Cur)
}
