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

// Garbage collector settings for a node process. GOGC is Go's default,
// 100, set explicitly: it is the tuner's ceiling (GCTuning), and a
// setting of the node's own is what starts the tuner in cmd/casare. The
// in-process `make bench` did better at 400 (three nodes' state in one
// heap, rescanned less often), but three real processes did better at
// 100: in seven interleaved pairs of the bench's real-process table, end
// to end ran faster at 100 in all seven, at a median node CPU a job of
// 135 against 159 µs; single submits took a median 309 against 335 µs
// of CPU a job; batched submits were even. A restart from a snapshot is
// slower while the heap is small (300,000 queued jobs: 4.0–4.4 s
// against 3.2–3.4 s). The memory limit keeps the headroom from turning
// into an out-of-memory kill: near the limit the collector works harder
// instead. As the live heap grows past gcHeadroom, internal/gctune
// lowers GOGC so that the heap's goal stays within gcHeadroom above it:
// about 32 with a million queued jobs.
const (
	nodeGCPercent = 100
	gcHeadroom    = 256 << 20
	gcMinPercent  = 25
	// memoryShare is the part of the machine's (or cgroup's) memory the
	// soft limit allows.
	memoryShare = 0.75
)

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
