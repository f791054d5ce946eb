// Package hugepages has a long-running process's heap backed by
// transparent huge pages where the system leaves that to each program.
//
// Go's runtime does not ask for huge pages itself (since Go 1.21.4 it
// follows the system's setting), and many systems, this project's CI
// machines among them, set /sys/kernel/mm/transparent_hugepage/enabled to
// "madvise": huge pages only where a program asks. Every first touch of a
// 4 KiB page of heap is then a page fault. On the virtual machines the
// bench runs on one costs about 11 µs, against 0.24 µs for each 4 KiB of
// a huge page, and fresh node processes, whose heaps grow by hundreds of
// megabytes under load, took several a job (docs/performance.md,
// 3 December, 17:20).
//
// Advice applies to a mapping that exists, and the runtime maps its heap
// a few megabytes at a time as it grows, allocating from each piece at
// once. So Premap has the runtime map a stretch of heap in one piece, by
// allocating it, advises it while nothing has touched it yet, and frees
// it: the heap then grows into pages that fault in 2 MiB at a time. The
// stretch costs address space, not memory, as long as the runtime need
// not zero it: fresh memory is zero already, but a stretch that begins
// in a free span at the top of the heap is zeroed whole, on small pages,
// so Premap asks the kernel (mincore) whether any page of it is in
// memory and advises nothing if one is (the zeroing is done by then:
// the check keeps the advice from pages already in, not the cost). Only
// the first call in a process premaps; call it first thing.
//
// The costs of huge pages, which made Go stop asking for them: with the
// system's defrag setting at "madvise" (the default) a fault in an
// advised range may compact memory to find a huge page, which can stall
// on a host short of free memory (golang/go#61718); and after the heap
// shrinks, khugepaged (max_ptes_none 511 by default) may fill the pages
// the scavenger returned back to 2 MiB, memory the runtime's limit does
// not see (golang/go#64332). GODEBUG=disablethp=1, the runtime's own
// switch against huge pages, turns Premap off.
package hugepages

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"unsafe"
)

// ErrNotAdvised says why the heap was left as it was: the system does
// not take advice (huge pages always on, never on, or not in the kernel),
// GODEBUG turns huge pages off, or the stretch would be too small.
var ErrNotAdvised = errors.New("huge pages not advised")

// ErrTouched says pages of the stretch were in memory before the advice
// (the runtime zeroed it, or reused heap it had touched), which would
// then come too late for them.
var ErrTouched = errors.New("huge pages: the premapped stretch was touched")

// hugePageSize is a transparent huge page on amd64, and on arm64 with
// 4 KiB pages; advice covers only whole ones.
const hugePageSize = 2 << 20

// minStretch is the least stretch worth advising.
const minStretch = 64 << 20

// premapped is set by the first Premap: the heap is the process's, and
// only its first stretch can be fresh.
var premapped atomic.Bool

// Premap has the runtime map n bytes of heap in one piece, advises them
// for huge pages and frees them (see the package comment). It runs a
// garbage collection, so that the heap grows into them at once. An
// error wrapping ErrNotAdvised says advice was not tried.
func Premap(n int) error {
	if !premapped.CompareAndSwap(false, true) {
		// A second stretch would begin in the first, freed, which the
		// runtime must zero: all of it, before any check could stop it.
		return fmt.Errorf("%w: the heap was premapped already", ErrNotAdvised)
	}
	if err := check(os.Getenv("GODEBUG"), n, readSetting); err != nil {
		return err
	}
	_, err := premap(n, allocate)
	return err
}

// allocate is how Premap has the runtime map a stretch.
func allocate(n int) []byte { return make([]byte, n) }

// premap does Premap's work, with alloc for allocate, and returns where
// the advised range began (0 if none was).
func premap(n int, alloc func(int) []byte) (uintptr, error) {
	stretch := alloc(n)
	defer func() {
		stretch = nil
		runtime.GC()
	}()
	// Whole huge pages only: a large allocation is aligned to the
	// runtime's 8 KiB pages, not to 2 MiB.
	start := addressOf(stretch)
	lo := int((start+hugePageSize-1)&^(hugePageSize-1) - start)
	hi := int((start+uintptr(n))&^(hugePageSize-1) - start)
	if hi <= lo {
		return 0, nil
	}
	in, err := resident(stretch[lo:hi])
	if err != nil {
		return 0, fmt.Errorf("huge pages: mincore: %w", err)
	}
	if in > 0 {
		return 0, fmt.Errorf("%w: %d of its pages are in memory already", ErrTouched, in)
	}
	if err := adviseHuge(stretch[lo:hi]); err != nil {
		return 0, fmt.Errorf("huge pages: madvise %d bytes of heap: %w", hi-lo, err)
	}
	return start + uintptr(lo), nil
}

// The kernel's settings check reads.
const (
	enabledPath    = "/sys/kernel/mm/transparent_hugepage/enabled"
	pmdSizePath    = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
	overcommitPath = "/proc/sys/vm/overcommit_memory"
)

// check returns an error wrapping ErrNotAdvised if godebug turns huge
// pages off, n is below minStretch, or the kernel's settings, as read
// returns them, rule advice out: huge pages not left to madvise, not
// 2 MiB (512 MiB on 64 KiB-page arm64 kernels, which would back far
// more than the heap needs), or strict overcommit (the stretch's commit
// charge would stay for the process's life: the runtime never unmaps
// heap).
func check(godebug string, n int, read func(path string) (string, error)) error {
	if key := offByGODEBUG(godebug); key != "" {
		return fmt.Errorf("%w: GODEBUG has %s", ErrNotAdvised, key)
	}
	if n < minStretch {
		return fmt.Errorf("%w: a stretch of %d bytes is under %d", ErrNotAdvised, n, minStretch)
	}
	enabled, err := read(enabledPath)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotAdvised, err)
	}
	m, err := parseMode(enabled)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotAdvised, err)
	}
	if m != "madvise" {
		return fmt.Errorf("%w: the system's setting is %q, not madvise", ErrNotAdvised, m)
	}
	if size, _ := read(pmdSizePath); size != strconv.Itoa(hugePageSize) {
		return fmt.Errorf("%w: huge pages of %q bytes, not %d", ErrNotAdvised, size, hugePageSize)
	}
	if mode, _ := read(overcommitPath); mode == "2" {
		return fmt.Errorf("%w: vm.overcommit_memory is 2 (strict)", ErrNotAdvised)
	}
	return nil
}

// Setting returns the system's transparent huge page setting as the
// kernel shows it, e.g. "always [madvise] never".
func Setting() (string, error) { return readSetting(enabledPath) }

// readSetting returns the trimmed contents of a kernel setting's file.
func readSetting(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func parseMode(s string) (string, error) {
	_, rest, ok := strings.Cut(s, "[")
	mode, _, ok2 := strings.Cut(rest, "]")
	if !ok || !ok2 || mode == "" {
		return "", fmt.Errorf("no [choice] in %q", strings.TrimSpace(s))
	}
	return mode, nil
}

// offByGODEBUG returns the setting of godebug (the GODEBUG variable)
// that rules advice out, or "": disablethp, the runtime's switch against
// huge pages, and harddecommit, under which the runtime maps returned
// pages anew and so drops the advice. As in the runtime, the last
// setting of a key wins and any integer but 0 turns it on.
func offByGODEBUG(godebug string) string {
	on := map[string]bool{}
	for _, kv := range strings.Split(godebug, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && (k == "disablethp" || k == "harddecommit") {
			n, err := strconv.ParseInt(v, 10, 32)
			on[k] = err == nil && n != 0
		}
	}
	for _, k := range []string{"disablethp", "harddecommit"} {
		if on[k] {
			return k + "=1"
		}
	}
	return ""
}

// addressOf returns where b's bytes begin.
func addressOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
