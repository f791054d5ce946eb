//go:build !linux

package hugepages

// adviseHuge and resident are never reached where check fails:
// only Linux has the setting it reads.
func adviseHuge([]byte) error { return ErrNotAdvised }

func resident([]byte) (int, error) { return 0, ErrNotAdvised }
