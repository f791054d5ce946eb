package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errBusy = errors.New("busy")

func TestDoRetriesUntilSuccess(t *testing.T) {
	tries := 0
	var waits []time.Duration
	p := Policy{First: time.Millisecond, Max: 4 * time.Millisecond, OnRetry: func(n int, err error, wait time.Duration) {
		if n != len(waits)+1 || !errors.Is(err, errBusy) {
			t.Errorf("OnRetry(%d, %v) after %d waits", n, err, len(waits))
		}
		waits = append(waits, wait)
	}}
	got, err := Do(t.Context(), p, func() (int, error) {
		if tries++; tries < 5 {
			return 0, errBusy
		}
		return 42, nil
	})
	if got != 42 || err != nil || tries != 5 || len(waits) != 4 {
		t.Fatalf("Do = %d, %v after %d tries and waits %v", got, err, tries, waits)
	}
	for i, w := range waits {
		want := min(time.Millisecond<<i, 4*time.Millisecond)
		if w < want*8/10 || w > want*12/10 {
			t.Errorf("wait %d = %v, want %v ± 20%%", i, w, want)
		}
	}
}

func TestDoStopsAtAPermanentError(t *testing.T) {
	tries := 0
	_, err := Do(t.Context(), Policy{First: time.Millisecond, Max: time.Millisecond}, func() (int, error) {
		tries++
		return 0, Permanent(errBusy)
	})
	if !errors.Is(err, errBusy) || tries != 1 {
		t.Fatalf("%v after %d tries", err, tries)
	}
}

func TestDoGivesUpWithTheContextAndTheLastError(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := Do(ctx, Policy{First: time.Millisecond, Max: 5 * time.Millisecond}, func() (int, error) { return 0, errBusy })
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, errBusy) {
		t.Fatalf("error %v, want both the deadline and the last error", err)
	}
}
