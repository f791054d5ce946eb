package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// diskFlushes reads how many cache flushes (fsync's trips to the device)
// the block device holding dir has completed, and the milliseconds spent
// on them, from /sys/dev/block/MAJ:MIN/stat (fields 16 and 17, Linux
// 5.5 and later). For a partition it reads its disk, which counts them.
func diskFlushes(dir string) (flushes, ms uint64, err error) {
	var st syscall.Stat_t
	if err := syscall.Stat(dir, &st); err != nil {
		return 0, 0, fmt.Errorf("stat %q: %w", dir, err)
	}
	dev := fmt.Sprintf("/sys/dev/block/%d:%d", unixMajor(st.Dev), unixMinor(st.Dev))
	if _, err := os.Stat(filepath.Join(dev, "partition")); err == nil {
		dev = filepath.Join(dev, "..")
	}
	buf, err := os.ReadFile(filepath.Join(dev, "stat"))
	if err != nil {
		return 0, 0, fmt.Errorf("%s is on no block device whose counts can be read: %w", dir, err)
	}
	fields := strings.Fields(string(buf))
	if len(fields) < 17 {
		return 0, 0, fmt.Errorf("%s: %d fields, no flush counts", dev, len(fields))
	}
	if flushes, err = strconv.ParseUint(fields[15], 10, 64); err == nil {
		ms, err = strconv.ParseUint(fields[16], 10, 64)
	}
	return flushes, ms, err
}

// unixMajor and unixMinor split a Linux device number as glibc's
// major(3) and minor(3) do.
func unixMajor(dev uint64) uint64 { return (dev>>8)&0xfff | (dev>>32)&0xfffff000 }
func unixMinor(dev uint64) uint64 { return dev&0xff | (dev>>12)&0xffffff00 }
