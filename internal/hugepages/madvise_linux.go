package hugepages

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks for huge pages under b (MADV_HUGEPAGE).
func adviseHuge(b []byte) error { return syscall.Madvise(b, syscall.MADV_HUGEPAGE) }

// resident returns how many of b's pages are in memory (mincore); b is
// not empty and starts on a page boundary.
func resident(b []byte) (int, error) {
	page := syscall.Getpagesize()
	vec := make([]byte, (len(b)+page-1)/page)
	_, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(unsafe.Pointer(&vec[0])))
	if errno != 0 {
		return 0, errno
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n, nil
}
