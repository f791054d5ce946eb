package hugepages

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// premapHelperEnv makes the test binary, started again by
// TestPremapInAFreshProcess, run premapInThisProcess instead of the
// tests: premap needs a heap whose top no earlier test has touched, as
// a node's is when it starts.
const premapHelperEnv = "HUGEPAGES_PREMAP_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(premapHelperEnv) != "" {
		premapInThisProcess()
		return
	}
	os.Exit(m.Run())
}

// premapInThisProcess premaps and prints what it saw: the first
// premap's error, the advised mapping's flags and resident kilobytes,
// the error of a second Premap, which must not allocate, and that of a
// second stretch premapped anyway, which the runtime had to zero.
func premapInThisProcess() {
	start, err := premap(minStretch, allocate)
	fmt.Printf("first: %v\n", err)
	if err == nil {
		flags, rss, err := mappingOf(start)
		fmt.Printf("flags: %s\nrss: %d\nsmaps: %v\n", flags, rss, err)
	}
	premapped.Store(true) // as Premap's first call leaves it
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err = Premap(minStretch)
	runtime.ReadMemStats(&after)
	fmt.Printf("again: %v\nallocated: %d\n", err, after.TotalAlloc-before.TotalAlloc)
	_, err = premap(minStretch, allocate)
	fmt.Printf("second: %v\n", err)
}

// TestPremapInAFreshProcess checks, in a new process, that premap
// leaves its stretch advised ("hg" in /proc/self/smaps) and untouched,
// and that a second premap, which the runtime must zero (the stretch
// was heap before), is refused instead of advised.
func TestPremapInAFreshProcess(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage"); err != nil {
		t.Skipf("no transparent huge pages in this kernel: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), premapHelperEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	got := string(out)
	for _, want := range []string{"first: <nil>\n", " hg", "smaps: <nil>\n", "again: " + ErrNotAdvised.Error() + ": the heap was premapped already\n", "second: " + ErrTouched.Error()} {
		if !strings.Contains(got, want) {
			t.Errorf("the helper printed\n%s\nwant %q in it", got, want)
		}
	}
	var rss, allocated int
	for _, line := range strings.Split(got, "\n") {
		fmt.Sscanf(line, "rss: %d", &rss)
		fmt.Sscanf(line, "allocated: %d", &allocated)
	}
	if allocated >= minStretch {
		t.Errorf("a second Premap allocated %d bytes, want it refused first", allocated)
	}
	if rss > 2048 {
		t.Errorf("the premapped stretch holds %d KiB in memory, want it untouched", rss)
	}
}

// TestPremapRefusesAStretchTheRuntimeZeroed has the allocation touch
// every page, as the runtime's zeroing does when the stretch begins in a
// free span at the top of the heap: premap must report it instead of
// advising pages already in memory.
func TestPremapRefusesAStretchTheRuntimeZeroed(t *testing.T) {
	zeroed := func(n int) []byte {
		b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
		if err != nil {
			t.Fatalf("mmap: %v", err)
		}
		t.Cleanup(func() { syscall.Munmap(b) })
		for i := 0; i < n; i += os.Getpagesize() {
			b[i] = 0
		}
		return b
	}
	if _, err := premap(minStretch, zeroed); !errors.Is(err, ErrTouched) {
		t.Errorf("premap of a stretch whose every page was touched: %v, want ErrTouched", err)
	}
}

// mappingOf returns the VmFlags line and the resident KiB of the mapping
// of /proc/self/smaps that holds addr.
func mappingOf(addr uintptr) (flags string, rss int, err error) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return "", 0, err
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
		switch {
		case in && strings.HasPrefix(line, "Rss:"):
			fmt.Sscanf(line, "Rss: %d kB", &rss)
		case in && strings.HasPrefix(line, "VmFlags:"):
			return line, rss, nil
		}
	}
	return "", 0, fmt.Errorf("no mapping holds %#x", addr)
}
