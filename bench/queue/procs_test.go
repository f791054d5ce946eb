//go:build linux

package main

import (
	"os"
	"syscall"
	"testing"
)

// TestProcUsageCountsFirstTouches maps fresh anonymous memory outside the
// Go heap and touches each page once: every touch is a page fault, which
// procUsage must count for this process.
func TestProcUsageCountsFirstTouches(t *testing.T) {
	const pages = 1024
	size := pages * os.Getpagesize()
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatalf("mmap: %v", err)
	}
	defer syscall.Munmap(mem)
	// With transparent huge pages always on, one fault could map 2 MiB.
	if err := syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE); err != nil {
		t.Fatalf("madvise: %v", err)
	}
	self := []int{os.Getpid()}
	before := procUsage(self)
	for i := 0; i < size; i += os.Getpagesize() {
		mem[i] = 1
	}
	after := procUsage(self)
	if got := after.faults - before.faults; got < pages {
		t.Errorf("%d page faults counted for %d first touches", got, pages)
	}
	if after.cpu < before.cpu {
		t.Errorf("CPU time went back from %v to %v", before.cpu, after.cpu)
	}
}
