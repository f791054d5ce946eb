package node

import (
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
	limit := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(limit)
	if n := HeapPremap(); n <= 0 || n > heapPremapMax {
		t.Errorf("HeapPremap() = %d, want 1 byte to %d", n, heapPremapMax)
	}
	if total := availableMemory(); total > 0 && int64(HeapPremap()) > total/8 {
		t.Errorf("HeapPremap() = %d, more than an eighth of %d", HeapPremap(), total)
	}
	debug.SetMemoryLimit(256 << 20)
	if n := HeapPremap(); n > 64<<20 {
		t.Errorf("under a 256 MiB limit HeapPremap() = %d, want at most a quarter", n)
	}
}
