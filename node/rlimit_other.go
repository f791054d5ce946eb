//go:build !unix

package node

// addressSpaceLimit: only Unix has RLIMIT_AS.
func addressSpaceLimit() uint64 { return noAddressSpaceLimit }
