//go:build unix && !linux

package main

import "errors"

// diskFlushes is only read on Linux.
func diskFlushes(string) (flushes, ms uint64, err error) {
	return 0, 0, errors.New("disk flush counts are read on Linux only")
}
