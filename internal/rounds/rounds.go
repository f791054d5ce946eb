// Package rounds shares one run of a check among the callers waiting for
// it, where each caller needs a run that started after it called: a read
// index that must cover every write acknowledged before the call, a proof
// of leadership that must postdate it.
package rounds

import (
	"context"
	"sync"
	"time"
)

// Group shares runs of a check among concurrent callers. A caller joins
// the next round that has not started yet, so the round it gets started
// after it called; at most one round runs at a time. A flood of callers
// (requests with made-up tokens or ids that must confirm a miss, reads
// that need a read index) therefore costs one run per round trip, not one
// per caller. The zero Group is ready to use.
type Group struct {
	mu sync.Mutex
	// next is the round that arrivals join; nil until one arrives.
	next *round
	// idle is closed when the running round ends; nil while none runs.
	idle chan struct{}
}

type round struct {
	done chan struct{}
	err  error
	// joined counts the waits that share the round; the tests read it.
	joined int
}

// Wait returns once a round of check that started after the call has
// ended, with its error, or when ctx ends. The caller whose turn it is
// runs the round, bounded by limit and not by its own context, since the
// others who joined it depend on it. Every caller of a Group must pass a
// check that does the same thing: a round runs its runner's.
func (g *Group) Wait(ctx context.Context, limit time.Duration, check func(context.Context) error) error {
	g.mu.Lock()
	r := g.next
	if r == nil {
		r = &round{done: make(chan struct{})}
		g.next = r
	}
	r.joined++
	for {
		select {
		case <-r.done:
			g.mu.Unlock()
			return r.err
		default:
		}
		if g.idle == nil {
			// Nothing runs and r has not run: r is g.next, ours to run.
			g.run(ctx, limit, check) // unlocks and locks g.mu again
			continue
		}
		idle := g.idle
		g.mu.Unlock()
		select {
		case <-r.done:
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		case <-idle: // the running round ended: r may be ours to run now
		}
		g.mu.Lock()
	}
}

// run takes the waiting round and runs it, with g.mu held on entry and
// on return.
func (g *Group) run(ctx context.Context, limit time.Duration, check func(context.Context) error) {
	r := g.next
	g.next = nil
	g.idle = make(chan struct{})
	g.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	r.err = check(rctx)
	cancel()
	close(r.done)
	g.mu.Lock()
	close(g.idle)
	g.idle = nil
}
