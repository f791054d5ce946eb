package hugepages

import "syscall"

// adviseHuge asks for huge pages under b (MADV_HUGEPAGE).
func adviseHuge(b []byte) error { return syscall.Madvise(b, syscall.MADV_HUGEPAGE) }

// minorFaults returns the page faults this process took without I/O.
func minorFaults() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Minflt
}
