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

func TestBackoffDoublesUpToMaxAndResets(t *testing.T) {
	b := Policy{First: 10 * time.Millisecond, Max: 40 * time.Millisecond}.Backoff()
	within := func(got, want time.Duration) bool { return got >= want*8/10 && got <= want*12/10 }
	for i, want := range []time.Duration{10, 20, 40, 40} {
		if got := b.Next(); !within(got, want*time.Millisecond) {
			t.Fatalf("wait %d = %v, want %v ± 20%%", i, got, want*time.Millisecond)
		}
	}
	b.Reset()
	if got := b.Next(); !within(got, 10*time.Millisecond) {
		t.Fatalf("after Reset the wait is %v, want 10ms ± 20%%", got)
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan struct{})
	go func() { Sleep(ctx, time.Hour); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Sleep of an hour did not end when its context was cancelled")
	}
}
