//go:build !unix

package testutil

import (
	"testing"
	"time"
)

// ProcessCPU skips the benchmark: without getrusage there is no
// process CPU time to report, and a benchmark that reported none would
// look as if it cost nothing.
func ProcessCPU(tb testing.TB) time.Duration {
	tb.Helper()
	tb.Skip("process CPU time needs getrusage, which this platform lacks")
	return 0
}
