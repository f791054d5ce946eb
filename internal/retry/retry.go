// Package retry is how Casare retries an operation whose failure may pass
// (no leader yet, a leader change, a node that is restarting):
// exponential backoff with jitter, from github.com/cenkalti/backoff,
// until the operation succeeds, fails for good, or the caller's context
// ends. There is no limit on tries or time besides the context, so every
// caller decides how long it is willing to wait.
package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// jitter spreads the waits by ±20%, so that the followers that all lost
// the same leader do not retry in step.
const jitter = 0.2

// Policy says how long to wait between tries: First after the first
// failure, doubling up to Max.
type Policy struct {
	First, Max time.Duration
	// OnRetry, when set, is told of each failure before the wait, with
	// the number of tries so far.
	OnRetry func(tries int, err error, wait time.Duration)
}

// Permanent marks an error that trying again cannot fix: Do returns it
// (unwrapped) at once.
func Permanent(err error) error { return backoff.Permanent(err) }

// Do calls op until it succeeds or returns a Permanent error, waiting
// between tries as p says. When ctx ends first it returns an error that
// wraps both the context's error and op's last one, so errors.Is finds
// either.
func Do[T any](ctx context.Context, p Policy, op func() (T, error)) (T, error) {
	b := p.Backoff().b
	var lastErr error
	tries := 0
	res, err := backoff.Retry(ctx, func() (T, error) {
		tries++
		v, err := op()
		if err != nil {
			lastErr = err
		}
		return v, err
	}, backoff.WithBackOff(b), backoff.WithMaxElapsedTime(0), backoff.WithNotify(func(err error, wait time.Duration) {
		if p.OnRetry != nil {
			p.OnRetry(tries, err, wait)
		}
	}))
	if cause := context.Cause(ctx); err != nil && err == cause && lastErr != nil {
		return res, fmt.Errorf("%w (last error: %w)", err, lastErr)
	}
	return res, err
}

// Sleep waits for d, or until ctx ends, whichever comes first.
func Sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Backoff hands out p's waits one after another, for a loop that does
// more between tries than Do allows (the robot's claim loop also waits
// for free slots and for work).
type Backoff struct{ b *backoff.ExponentialBackOff }

// Backoff returns the waits of p, starting at First.
func (p Policy) Backoff() *Backoff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval, b.Multiplier, b.RandomizationFactor = p.First, p.Max, 2, jitter
	b.Reset()
	return &Backoff{b: b}
}

// Next returns the wait before the next try.
func (b *Backoff) Next() time.Duration { return b.b.NextBackOff() }

// Reset starts over at First, after a success.
func (b *Backoff) Reset() { b.b.Reset() }
