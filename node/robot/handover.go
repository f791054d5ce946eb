package robot

import (
	"context"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
)

// handover passes completions from the reporter to the claim loop of a
// robot whose queue is a WorkQueue, so they ride on the claim that their
// freed slots cause: one round trip per job instead of two.
//
// Between the claim loop's calls the handover is open: what is handed
// over goes with the next claim, which the freed slot is about to cause.
// While a claim is out the handover accepts completions only if the
// robot is busy (its last claim brought jobs), because then the claim
// comes back within a round trip and the next one carries them; each
// waits at most hold (about two claim round trips) before the reporter
// takes it back and sends it itself. A claim that found no work may be
// held by the node until work appears, so an idle robot's completions go
// at once.
type handover struct {
	mu      sync.Mutex
	open    bool // the claim loop runs and is between calls
	busy    bool // the claim loop's last claim brought jobs
	running bool // the claim loop has not stopped
	rtt     time.Duration
	items   []handed
}

type handed struct {
	c     completion
	since time.Time
}

// Bounds of how long a completion may wait for a claim that is out.
// The floor keeps a fast link from making the wait useless; the ceiling
// bounds what a claim that ends up held for work can cost a completion.
// Variables so that a test on a loaded machine can widen them: a run of
// the race detector may leave a completion more than 2 ms between its
// hand-over and the claim that takes it.
var (
	minHandoverHold = 2 * time.Millisecond
	maxHandoverHold = 50 * time.Millisecond
)

// hold is how long a completion handed over may wait for a claim. The
// caller holds mu.
func (h *handover) hold() time.Duration {
	return min(max(2*h.rtt, minHandoverHold), maxHandoverHold)
}

// offer hands c to the claim loop if it will carry it soon, and reports
// whether it took c.
func (h *handover) offer(c completion, now time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c.handBack || !h.running || !(h.open || h.busy) {
		return false
	}
	h.items = append(h.items, handed{c: c, since: now})
	return true
}

// take returns what was handed over and closes the handover for the
// claim loop's call.
func (h *handover) take() []completion {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open = false
	out := make([]completion, len(h.items))
	for i, it := range h.items {
		out[i] = it.c
	}
	h.items = nil
	return out
}

// called records how the claim loop's call went and opens the handover
// again: busy when it brought jobs, rtt its duration.
func (h *handover) called(busy bool, rtt time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.open, h.busy = true, busy
	if busy {
		h.rtt = rtt
	}
}

// failed records that the claim loop's call failed: the handover takes
// nothing until a call gets through.
func (h *handover) failed() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.busy = false
}

// start marks the claim loop running and between calls.
func (h *handover) start() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running, h.open = true, true
}

// stop marks the claim loop stopped and returns what it was handed.
func (h *handover) stop() []completion {
	out := h.take()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.running = false
	return out
}

// overdue takes back the completions that have waited their hold, and
// returns them with how long until the next of those left is due (zero
// if none is left).
func (h *handover) overdue(now time.Time) (late []completion, next time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hold := h.hold()
	kept := h.items[:0]
	for _, it := range h.items {
		if due := it.since.Add(hold); now.Before(due) {
			kept = append(kept, it)
			if next == 0 || due.Sub(now) < next {
				next = due.Sub(now)
			}
			continue
		}
		late = append(late, it.c)
	}
	clear(h.items[len(kept):])
	h.items = kept
	return late, next
}

// waiting reports how long until the first completion handed over is due
// to be taken back, and false if none is waiting.
func (h *handover) waiting(now time.Time) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.items) == 0 {
		return 0, false
	}
	return max(h.items[0].since.Add(h.hold()).Sub(now), 0), true
}

// claimCompleting is the claim loop's claim when its queue can carry
// completions: it sends those handed over with the claim and gives back
// to the reporter those the call did not report.
func (r *Robot) claimCompleting(ctx context.Context, q WorkQueue, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	batch := r.handover.take()
	done := consensus.CompleteCmd{RobotID: r.cfg.ID}
	for _, c := range batch {
		done.Items = append(done.Items, c.item)
	}
	sent := time.Now()
	out, err := q.ClaimCompleting(ctx, cmd, done)
	switch {
	case err != nil:
		// The handover stays closed until a claim gets through, so the
		// reporter sends what comes meanwhile.
		r.handover.failed()
		r.giveBack(batch, true)
		return nil, err
	case out.CompleteErr != nil && len(batch) > 0:
		r.log.Warn("completions sent with a claim were not reported; sending them again", "jobs", len(batch), "err", out.CompleteErr)
		r.giveBack(batch, true)
	default:
		for i, a := range out.Acks {
			if i < len(batch) {
				r.logCompletion(ctx, batch[i], a, 1)
			}
		}
	}
	r.handover.called(len(out.Jobs) > 0, time.Since(sent))
	return out.Jobs, nil
}

// awaitShortRuns waits up to claimCoalesce after a claim that brought
// jobs for the runs it started to end — until no more runs are active
// than before it (before) — so that the next claim asks for their slots
// too. The claim loop claims again the moment a claim returns, before the
// runs it just started can end; a job shorter than a round trip then left
// its slot idle for a whole one. Waking at the first run's end was not
// enough: the other runs of the same claim, as short, had not ended yet,
// and half of a two-slot robot's claims asked for one slot (dispatch
// bench: 606 of 1,228 claims). Over a tunnel a round trip costs far more
// than the wait.
func (r *Robot) awaitShortRuns(ctx context.Context, before int) {
	t := time.NewTimer(claimCoalesce)
	defer t.Stop()
	// A signal left from before these runs started only makes the loop
	// count again.
	for r.activeCount() > before {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			return
		case <-r.freed:
		}
	}
}

// finish queues a run's outcome for reporting. It hands the outcome to
// the claim loop itself, before the run's slot frees, so that the claim
// the freed slot causes finds it there.
func (r *Robot) finish(c completion) {
	if r.handover.offer(c, time.Now()) {
		select {
		case r.handed <- struct{}{}:
		default: // the reporter has a wake-up pending already
		}
		return
	}
	r.done <- c
}

// giveBack queues completions for the reporter to send on their own;
// sent says a call carried them, which may have committed them, so that
// a refusal of them is no news. The handover is closed meanwhile, so
// the reporter does not hand them over again; it drains r.done whatever
// the claim loop does, so this cannot block for long.
func (r *Robot) giveBack(batch []completion, sent bool) {
	for _, c := range batch {
		c.resent = sent
		r.done <- c
	}
}
