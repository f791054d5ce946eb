package node

import (
	"math"
	"runtime/debug"
	"testing"
)

func TestTuneRuntimeRespectsEnvironment(t *testing.T) {
	// Start from a percent the node never sets, so that the check
	// sees TuneRuntime's own setting.
	const elsewhere = nodeGCPercent + 37
	prevGC := debug.SetGCPercent(elsewhere)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevGC)
		debug.SetMemoryLimit(prevLimit)
	})

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	got := TuneRuntime()
	if got.GCPercent != nodeGCPercent || debug.SetGCPercent(elsewhere) != nodeGCPercent {
		t.Fatalf("without GOGC: tuning %+v, want gc percent %d in effect", got, nodeGCPercent)
	}
	if total := availableMemory(); total > 0 && (got.MemoryLimit <= 0 || got.MemoryLimit >= total || debug.SetMemoryLimit(-1) != got.MemoryLimit) {
		t.Fatalf("without GOMEMLIMIT: tuning %+v, memory %d, limit in effect %d", got, total, debug.SetMemoryLimit(-1))
	}

	debug.SetMemoryLimit(prevLimit)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	got = TuneRuntime()
	if got.GCPercent != -1 || got.MemoryLimit != 0 || debug.SetGCPercent(elsewhere) != elsewhere || debug.SetMemoryLimit(-1) != prevLimit {
		t.Fatalf("with GOGC and GOMEMLIMIT set: tuning %+v changed the runtime", got)
	}
}

func TestHeapPremapStaysWithinTheMemory(t *testing.T) {
	const gib = 1 << 30
	noLimit := int64(math.MaxInt64)
	for _, c := range []struct {
		name         string
		limit, total int64
		addressSpace uint64
		want         int
	}{
		{"a large machine", noLimit, 24 * gib, noAddressSpaceLimit, heapPremapMax},
		{"unknown memory", noLimit, 0, noAddressSpaceLimit, heapPremapMax},
		{"an eighth of 2 GiB", noLimit, 2 * gib, noAddressSpaceLimit, gib / 4},
		{"a quarter of GOMEMLIMIT", gib / 2, 24 * gib, noAddressSpaceLimit, gib / 8},
		{"an eighth of ulimit -v", noLimit, 24 * gib, 4 * gib, gib / 2},
	} {
		if got := heapPremap(c.limit, c.total, c.addressSpace); got != c.want {
			t.Errorf("%s: heapPremap(%d, %d, %d) = %d, want %d", c.name, c.limit, c.total, c.addressSpace, got, c.want)
		}
	}
	if n := HeapPremap(); n <= 0 || n > heapPremapMax {
		t.Errorf("HeapPremap() = %d on this machine, want 1 byte to %d", n, heapPremapMax)
	}
}
