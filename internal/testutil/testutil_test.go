package testutil

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// fatalRecorder is a testing.TB whose Fatalf records the message and
// ends the goroutine, as the real one does.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper() {}

func (r *fatalRecorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls wait with a recorder on its own goroutine and returns what
// Fatalf said, or "" when wait returned.
func run(wait func(tb testing.TB)) string {
	r := &fatalRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		wait(r)
	}()
	<-done
	return r.msg
}

func TestWaitForReturnsOnceTheConditionHolds(t *testing.T) {
	calls := 0
	msg := run(func(tb testing.TB) {
		WaitFor(tb, time.Minute, "the third call", func() bool { calls++; return calls == 3 })
	})
	if msg != "" || calls != 3 {
		t.Errorf("after %d calls: %q", calls, msg)
	}
}

func TestWaitForFailsNamingWhatItWaitedFor(t *testing.T) {
	start := time.Now()
	msg := run(func(tb testing.TB) {
		WaitFor(tb, 50*time.Millisecond, "the moon", func() bool { return false })
	})
	if !strings.Contains(msg, "waiting for the moon") || time.Since(start) < 50*time.Millisecond {
		t.Errorf("after %v: %q", time.Since(start), msg)
	}
}

func TestEventuallyReportsTheLastError(t *testing.T) {
	calls := 0
	msg := run(func(tb testing.TB) {
		Eventually(tb, 50*time.Millisecond, "a leader", func() (bool, error) {
			calls++
			return false, fmt.Errorf("attempt %d: %w", calls, errors.New("no leader"))
		})
	})
	if !strings.Contains(msg, "waiting for a leader") || !strings.Contains(msg, fmt.Sprintf("attempt %d: no leader", calls)) {
		t.Errorf("%q", msg)
	}
}

// FreePorts hands out distinct ports below the ephemeral range that a
// TCP listener and a UDP socket can both take.
func TestFreePortsAreDistinctAndBindable(t *testing.T) {
	seen := map[int]bool{}
	for _, p := range append(FreePorts(t, 8), FreePorts(t, 8)...) {
		if seen[p] || p < portLow || p >= portHigh || !portFree(p) {
			t.Fatalf("port %d: repeated %v, outside %d–%d, or taken", p, seen[p], portLow, portHigh)
		}
		seen[p] = true
	}
}
