package node

import (
	"runtime/debug"
	"testing"
)

func TestTuneRuntimeRespectsEnvironment(t *testing.T) {
	prevGC := debug.SetGCPercent(100)
	prevLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(prevGC)
		debug.SetMemoryLimit(prevLimit)
	})

	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	got := TuneRuntime()
	if got.GCPercent != nodeGCPercent || debug.SetGCPercent(100) != nodeGCPercent {
		t.Fatalf("without GOGC: tuning %+v, want gc percent %d in effect", got, nodeGCPercent)
	}
	if total := availableMemory(); total > 0 && (got.MemoryLimit <= 0 || got.MemoryLimit >= total || debug.SetMemoryLimit(-1) != got.MemoryLimit) {
		t.Fatalf("without GOMEMLIMIT: tuning %+v, memory %d, limit in effect %d", got, total, debug.SetMemoryLimit(-1))
	}

	debug.SetMemoryLimit(prevLimit)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	got = TuneRuntime()
	if got.GCPercent != -1 || got.MemoryLimit != 0 || debug.SetGCPercent(100) != 100 || debug.SetMemoryLimit(-1) != prevLimit {
		t.Fatalf("with GOGC and GOMEMLIMIT set: tuning %+v changed the runtime", got)
	}
}
