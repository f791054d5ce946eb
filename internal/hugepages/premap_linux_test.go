package hugepages

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestPremapAdvisesAStretchOfHeap checks that the stretch premap frees
// is left untouched and with the kernel's huge page flag ("hg" in
// /proc/self/smaps), whatever the system's setting: where the kernel
// has transparent huge pages at all, the flag is set even where the
// setting does not act on it.
func TestPremapAdvisesAStretchOfHeap(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("no transparent huge pages in this kernel: %v", err)
	}
	start, err := premap(minStretch, allocate)
	if errors.Is(err, syscall.EINVAL) {
		t.Skipf("madvise(MADV_HUGEPAGE) refused: %v", err)
	}
	if err != nil {
		t.Fatalf("premap: %v", err)
	}
	if flags := vmFlags(t, start); !strings.Contains(flags, " hg") {
		t.Errorf("the premapped heap's VmFlags are %q, want hg", flags)
	}
}

// TestPremapRefusesAStretchTheRuntimeZeroed has the allocation touch
// every page, as the runtime's zeroing does when the stretch begins in a
// free span at the top of the heap: premap must report it instead of
// advising pages already faulted in.
func TestPremapRefusesAStretchTheRuntimeZeroed(t *testing.T) {
	zeroed := func(n int) []byte {
		// Fresh memory, as the stretch is, on small pages, as the
		// runtime's zeroing finds it.
		b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Fatalf("mmap: %v", err)
		}
		t.Cleanup(func() { syscall.Munmap(b) })
		if err := syscall.Madvise(b, syscall.MADV_NOHUGEPAGE); err != nil {
			t.Fatalf("madvise: %v", err)
		}
		for i := 0; i < n; i += os.Getpagesize() {
			b[i] = 0
		}
		return b
	}
	if _, err := premap(minStretch, zeroed); !errors.Is(err, ErrTouched) {
		t.Errorf("premap of a stretch whose every page was touched: %v, want ErrTouched", err)
	}
}

// vmFlags returns the VmFlags line of the mapping of /proc/self/smaps
// that holds addr.
func vmFlags(t *testing.T, addr uintptr) string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x ", &lo, &hi); n == 2 {
			in = lo <= addr && addr < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return line
		}
	}
	t.Fatalf("no mapping holds %#x", addr)
	return ""
}
