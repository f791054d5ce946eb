package node

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/casare/casare/internal/gctune"
)

// Garbage collector settings for a node process. nodeGCPercent is the
// tuner's ceiling (GCTuning), and a setting of the node's own is what
// starts the tuner in cmd/casare. After each collection the tuner sets
// GOGC so that the next goal stays within gcHeadroom above the live
// heap, down to gcMinPercent (reached at about 1 GiB live), so the
// ceiling decides how much of that headroom a small heap may use: at
// 100 a 60 MB live heap was collected every 60 MB allocated, at 400
// every 240. On 3 December the bench's real-process table ran faster
// at 200 than at 100 in each of three interleaved pairs (node CPU a
// job: end to end 52.0–54.0 against 60.0–63.7 µs, batched submits
// 21.5–21.8 against 24.7–25.8, single submits 131–135 against
// 143–144), and end to end faster again at 400 than at 200 in both of
// two pairs (48.3 / 48.7 against 53.3 / 52.0 µs); two direct pairs of
// 400 against 100 gave 52.0 / 53.0 against 64.0 / 66.3. Seven pairs on
// 2 December, with the tuner already in place, had favoured 100 over
// 400 on the code of then, about a third as fast end to end; why the
// result reversed is not established. The tuner polls every 250 ms, so
// a jump in the live heap (a restore, a burst of submits) can run one
// cycle on the previous goal; the memory limit keeps that from turning
// into an out-of-memory kill: near the limit the collector works
// harder instead.
const (
	nodeGCPercent = 400
	gcHeadroom    = 256 << 20
	gcMinPercent  = 25
	// memoryShare is the part of the machine's (or cgroup's) memory the
	// soft limit allows.
	memoryShare = 0.75
)

// heapPremapMax is the most heap a node process premaps on huge pages
// before it starts (internal/hugepages): the heap of a node with a few
// hundred thousand jobs, and more than the bench's nodes reached (300–600
// MB each on 3 December). Past it the heap grows on small pages.
const heapPremapMax = 1 << 30

// HeapPremap returns how much heap a node process premaps (see
// heapPremap), from its memory limit, the machine's or cgroup's memory
// and its address space limit.
func HeapPremap() int {
	return heapPremap(debug.SetMemoryLimit(-1), availableMemory(), addressSpaceLimit())
}

// noAddressSpaceLimit is RLIM_INFINITY as addressSpaceLimit returns it.
const noAddressSpaceLimit = ^uint64(0)

// heapPremap is heapPremapMax, or less where memory is small: an eighth
// of the machine's or cgroup's memory (total; the runtime maps the
// stretch at once, and a mapping the kernel cannot cover kills the
// process), a quarter of the runtime's memory limit (the stretch counts
// against it until it is freed, and as free heap until the scavenger
// returns it), an eighth of the address space limit (noAddressSpaceLimit
// is the largest uint64, so it bounds nothing).
func heapPremap(limit, total int64, addressSpace uint64) int {
	n := min(heapPremapMax, limit/4, int64(min(addressSpace/8, heapPremapMax)))
	if total > 0 {
		n = min(n, total/8)
	}
	return int(n)
}

// RuntimeTuning says what TuneRuntime set.
type RuntimeTuning struct {
	GCPercent   int   // -1 when GOGC was left to the environment
	MemoryLimit int64 // 0 when none was set
}

func (t RuntimeTuning) String() string {
	gc, limit := "from GOGC", "none"
	if t.GCPercent >= 0 {
		gc = strconv.Itoa(t.GCPercent)
	}
	if t.MemoryLimit > 0 {
		limit = fmt.Sprintf("%d MiB", t.MemoryLimit>>20)
	}
	return fmt.Sprintf("gc percent %s, memory limit %s", gc, limit)
}

// TuneRuntime sets the collector for a long-running node process unless
// GOGC or GOMEMLIMIT say otherwise. Call it once from main; it changes
// process-wide settings.
func TuneRuntime() RuntimeTuning {
	t := RuntimeTuning{GCPercent: -1}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(nodeGCPercent)
		t.GCPercent = nodeGCPercent
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if total := availableMemory(); total > 0 {
			t.MemoryLimit = int64(float64(total) * memoryShare)
			debug.SetMemoryLimit(t.MemoryLimit)
		}
	}
	return t
}

// availableMemory returns the smallest of the machine's total memory and
// the memory limits of the cgroups the process is in, or 0 if none is
// known.
func availableMemory() int64 {
	limit := memTotal()
	for _, l := range cgroupLimits() {
		if l > 0 && (limit == 0 || l < limit) {
			limit = l
		}
	}
	return limit
}

// cgroupLimits reads the memory limits that apply to this process, from
// its own cgroup up to the root: memory.max under cgroup v2 (a systemd
// unit's MemoryMax sits on the unit's cgroup, not the root) and
// memory.limit_in_bytes under v1's memory controller.
func cgroupLimits() []int64 {
	v2, v1 := cgroupPaths()
	var limits []int64
	for _, c := range []struct{ root, path, file string }{
		{"/sys/fs/cgroup", v2, "memory.max"},
		{"/sys/fs/cgroup/memory", v1, "memory.limit_in_bytes"},
	} {
		if c.path == "" {
			continue
		}
		for dir := c.path; ; dir = filepath.Dir(dir) {
			if n, ok := readLimit(filepath.Join(c.root, dir, c.file)); ok {
				limits = append(limits, n)
			}
			if dir == "/" || dir == "." {
				break
			}
		}
	}
	return limits
}

// cgroupPaths returns the process's cgroup v2 path and its v1 memory
// controller path from /proc/self/cgroup ("0::/path" and
// "N:memory:/path"); either is empty when absent.
func cgroupPaths() (v2, v1 string) {
	raw, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			v2 = parts[2]
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			v1 = parts[2]
		}
	}
	return v2, v1
}

// readLimit reads a cgroup limit file; "max" and absent files mean no
// limit.
func readLimit(path string) (int64, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	n, err := strconv.ParseInt(string(bytes.TrimSpace(raw)), 10, 64)
	return n, err == nil && n > 0
}

// memTotal reads MemTotal from /proc/meminfo.
func memTotal() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// GCTuning is what internal/gctune keeps GOGC within for a node tuned as t.
func GCTuning(t RuntimeTuning) gctune.Settings {
	return gctune.Settings{MaxPercent: t.GCPercent, MinPercent: min(gcMinPercent, t.GCPercent), Headroom: gcHeadroom}
}
