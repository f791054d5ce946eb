package api

import (
	"context"
	"sync"
	"time"
)

// confirmGroup shares read-index waits among concurrent requests. A
// request that must confirm a miss (an unknown credential, a resource not
// on this node) joins the next round that has not started yet, so the
// round it gets covers every write acknowledged before it arrived; at most
// one round runs at a time. A flood of requests with made-up tokens or ids
// therefore costs the leader one read index per round trip, not one per
// request.
type confirmGroup struct {
	mu sync.Mutex
	// next is the round that arrivals join; nil until one arrives.
	next *confirmRound
	// idle is closed when the running round ends; nil while none runs.
	idle chan struct{}
}

type confirmRound struct {
	done chan struct{}
	err  error
	// joined counts the waits that share the round; the tests read it.
	joined int
}

// wait returns once a round of confirm that started after the call has
// ended, with its error, or when ctx ends. The caller whose turn it is
// runs the round, bounded by limit and not by its own context, since the
// others who joined it depend on it.
func (g *confirmGroup) wait(ctx context.Context, limit time.Duration, confirm func(context.Context) error) error {
	g.mu.Lock()
	r := g.next
	if r == nil {
		r = &confirmRound{done: make(chan struct{})}
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
			g.run(ctx, limit, confirm) // unlocks and locks g.mu again
			continue
		}
		idle := g.idle
		g.mu.Unlock()
		select {
		case <-r.done:
			return r.err
		case <-ctx.Done():
			return ctx.Err()
		case <-idle: // nil while nothing runs: never ready
		}
		g.mu.Lock()
	}
}

// run takes the waiting round and runs it, with g.mu held on entry and
// on return.
func (g *confirmGroup) run(ctx context.Context, limit time.Duration, confirm func(context.Context) error) {
	r := g.next
	g.next = nil
	g.idle = make(chan struct{})
	g.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	r.err = confirm(rctx)
	cancel()
	close(r.done)
	g.mu.Lock()
	close(g.idle)
	g.idle = nil
}
