// Package testutil holds what the tests of several packages share:
// waiting for a condition with a deadline and a message, instead of
// sleeping and hoping, and ports for test nodes that nothing else takes.
package testutil

import (
	"testing"
	"time"
)

// pollEvery is how often a wait looks again: short next to any deadline
// a test sets, long enough that many waiting tests do not load a shared
// machine.
const pollEvery = 10 * time.Millisecond

// WaitFor polls cond until it holds. Once timeout has passed it fails the
// test, saying what it waited for.
func WaitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	Eventually(tb, timeout, what, func() (bool, error) { return cond(), nil })
}

// Eventually polls cond until it returns true. Once timeout has passed it
// fails the test, saying what it waited for and the last error cond
// returned (an error is not a failure by itself: the condition may still
// come true).
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		ok, err := cond()
		if ok {
			return
		}
		if err != nil {
			lastErr = err
		}
		if time.Now().After(deadline) {
			if lastErr != nil {
				tb.Fatalf("timed out after %v waiting for %s (last error: %v)", timeout, what, lastErr)
			}
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(pollEvery)
	}
}
