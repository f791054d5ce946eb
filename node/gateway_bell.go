package node

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node/robot"
)

// bellStore is what the work bell reads of the local replica.
type bellStore interface {
	HasClaimable(cmd consensus.ClaimCmd, now time.Time) bool
	ClaimableUpTo(cmd consensus.ClaimCmd, now time.Time, limit int) int
	AppliedChanged() (uint64, <-chan struct{})
	LeaderlessFor() time.Duration
}

// workBell holds the claims of the internet robots connected to this
// gateway until there is work for them, and wakes no more of them than
// there are jobs to take, oldest waiter first.
//
// Each held claim used to watch the replica on its own: every applied
// entry woke every idle robot's claim, which then scanned the queue, and
// when a few jobs arrived every robot that saw them claimed at once,
// most of them in vain, each claim a Raft entry. One watcher per gateway
// keeps the cost of an idle robot at nothing and a job's arrival at one
// claim.
//
// A burst of jobs for a thousand waiting robots wakes them all at once:
// their claims join the node's robot-report entries, of which it keeps
// one in flight (consensus robotGroups), so a wave is a few entries and,
// on a follower, a few forwards. The bell once woke at most 64 claim
// slots at a time, when each claim was forwarded on its own and a
// thousand at once meant hundreds of TLS handshakes on the leader; with
// merged claims the cap only held back calls (docs/performance.md).
type workBell struct {
	store bellStore

	mu      sync.Mutex
	waiters []*bellWaiter // oldest first
	// inflight is, per robot profile, the slots of woken claims that
	// have not returned yet: the jobs they are about to take still look
	// claimable in the replica.
	inflight map[string]int
	kick     chan struct{}
}

type bellWaiter struct {
	cmd     consensus.ClaimCmd
	profile string
	ready   chan struct{} // closed when woken; its slots are then in flight
	// dismissed, set before ready is closed, ends the wait with an error
	// instead: no slots are in flight then.
	dismissed error
}

func newWorkBell(s bellStore) *workBell {
	return &workBell{store: s, inflight: map[string]int{}, kick: make(chan struct{}, 1)}
}

// profileOf groups claims that see the same jobs: same kind, same tags.
func profileOf(cmd consensus.ClaimCmd) string {
	tags := slices.Clone(cmd.Tags)
	slices.Sort(tags)
	return cmd.RobotKind + "\x00" + strings.Join(tags, "\x00")
}

// wait returns when a claim by cmd's robot may find a job, or with ctx's
// error. After a nil error the caller claims and then calls done, which
// stops counting the claim as in flight.
func (b *workBell) wait(ctx context.Context, cmd consensus.ClaimCmd) (done func(), err error) {
	w := &bellWaiter{cmd: cmd, profile: profileOf(cmd), ready: make(chan struct{})}
	b.mu.Lock()
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	b.poke()
	done = func() { b.release(w) }
	select {
	case <-w.ready:
		if w.dismissed != nil {
			return nil, w.dismissed
		}
		return done, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	i := slices.Index(b.waiters, w)
	if i >= 0 {
		b.waiters = slices.Delete(b.waiters, i, i+1)
	}
	b.mu.Unlock()
	if i < 0 && w.dismissed == nil {
		// Woken as the wait ended: the claim is not coming, so its slots
		// go to the next waiter.
		done()
	}
	return nil, ctx.Err()
}

// now lets a claim go at once, without queueing, when its robot would
// be woken at once: no claim of its profile waits before it and its
// profile has claimable jobs no woken claim is about to take. The caller
// claims and then calls done. A robot's work call uses it to send its
// completions and its claim together (gateway.work).
func (b *workBell) now(cmd consensus.ClaimCmd, at time.Time) (done func(), ok bool) {
	w := &bellWaiter{cmd: cmd, profile: profileOf(cmd)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if consensus.LeftLeaderless(b.store.LeaderlessFor()) != nil {
		return nil, false
	}
	for _, other := range b.waiters {
		if other.profile == w.profile {
			return nil, false
		}
	}
	busy := b.inflight[w.profile]
	if b.store.ClaimableUpTo(cmd, at, busy+cmd.Max)-busy <= 0 || !b.store.HasClaimable(cmd, at) {
		return nil, false
	}
	b.claiming(w)
	return func() { b.release(w) }, true
}

// claiming counts w's slots as being claimed until release. The caller
// holds mu.
func (b *workBell) claiming(w *bellWaiter) {
	b.inflight[w.profile] += w.cmd.Max
}

func (b *workBell) release(w *bellWaiter) {
	b.mu.Lock()
	if b.inflight[w.profile] -= w.cmd.Max; b.inflight[w.profile] <= 0 {
		delete(b.inflight, w.profile)
	}
	b.mu.Unlock()
	b.poke()
}

func (b *workBell) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// run rings the bell whenever the replica applies an entry, a claim
// comes or returns, and every robot.WorkPoll (jobs become claimable by
// time alone: backoff, not_before), until ctx ends.
func (b *workBell) run(ctx context.Context) {
	t := time.NewTicker(robot.WorkPoll)
	defer t.Stop()
	for {
		_, changed := b.store.AppliedChanged()
		b.ring(time.Now())
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		case <-b.kick:
		}
	}
}

// ring wakes waiters, oldest first, while their profile has claimable
// jobs left that no woken claim is about to take.
func (b *workBell) ring(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiters) == 0 {
		return
	}
	if err := consensus.LeftLeaderless(b.store.LeaderlessFor()); err != nil {
		b.dismiss(err)
		return
	}
	wanted := map[string]int{}
	for _, w := range b.waiters {
		wanted[w.profile] += w.cmd.Max
	}
	left := map[string]int{}
	kept := b.waiters[:0]
	for _, w := range b.waiters {
		n, counted := left[w.profile]
		if !counted {
			busy := b.inflight[w.profile]
			n = b.store.ClaimableUpTo(w.cmd, now, busy+wanted[w.profile]) - busy
		}
		if n > 0 && b.store.HasClaimable(w.cmd, now) {
			close(w.ready)
			b.claiming(w)
			n -= w.cmd.Max
		} else {
			kept = append(kept, w)
		}
		left[w.profile] = n
	}
	clear(b.waiters[len(kept):])
	b.waiters = kept
}

// dismiss ends every wait with err: this node has had no leader for a
// while, so its replica shows no new work and its claims would fail.
// The robots hear so at once and may go to a node that has one. Called
// with b.mu held.
func (b *workBell) dismiss(err error) {
	for _, w := range b.waiters {
		w.dismissed = err
		close(w.ready)
	}
	clear(b.waiters)
	b.waiters = b.waiters[:0]
}
