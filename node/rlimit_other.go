//go:build !linux

package node

// addressSpaceLimit: the premap it bounds runs only on Linux.
func addressSpaceLimit() uint64 { return noAddressSpaceLimit }
