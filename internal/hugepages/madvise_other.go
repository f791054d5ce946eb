//go:build !linux

package hugepages

// adviseHuge is never reached where systemMode fails: only Linux has the
// setting it reads.
func adviseHuge([]byte) error { return ErrNotAdvised }

func minorFaults() int64 { return 0 }
