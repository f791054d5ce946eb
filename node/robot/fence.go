package robot

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// leaseFence keeps a run from starting nodes while its robot cannot
// confirm that it still holds the job's lease. The leader hands the job
// to another robot only after consensus.RobotRequeueDelay without a
// renewal; the fence closes after the shorter consensus.FenceAfter, so a
// cut-off robot has stopped starting nodes before anyone else can start
// them (the arithmetic is at consensus.FenceAfter).
//
// Confirmations are timed by when the heartbeat (or claim) was sent, not
// when its answer came: the leader renewed the lease at some moment
// after the send, so the fence never outlasts the lease's renewal.
type leaseFence struct {
	after time.Duration
	// log, job and attempt say which run a pause is about. The run's
	// attributes are added only when a line is logged: a logger made
	// With them for every run formatted them for every run, some 2.5%
	// of a node's CPU under end-to-end load (bench/queue -cpuprofile),
	// to log a pause few runs ever see.
	log     *slog.Logger
	job     string
	attempt int

	mu        sync.Mutex
	confirmed time.Time     // send time of the newest accepted heartbeat
	renewed   chan struct{} // closed and replaced at each confirmation
	paused    bool
}

func newLeaseFence(after time.Duration, sent time.Time, log *slog.Logger, job string, attempt int) *leaseFence {
	return &leaseFence{after: after, log: log, job: job, attempt: attempt, confirmed: sent, renewed: make(chan struct{})}
}

// confirm records that the leader accepted a heartbeat sent at sent, and
// wakes a paused run.
func (f *leaseFence) confirm(sent time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if sent.After(f.confirmed) {
		f.confirmed = sent
	}
	close(f.renewed)
	f.renewed = make(chan struct{})
}

// closed reports whether the fence is closed now, and if not, when it
// closes; wake is closed at the next confirmation.
func (f *leaseFence) closed(now time.Time) (closed bool, wake <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return now.Sub(f.confirmed) >= f.after, f.renewed
}

// wait is the engine's BeforeNode gate: it returns at once while the
// lease is confirmed, and otherwise blocks until a heartbeat is
// confirmed again or ctx ends (the robot was told its lease is gone, or
// it is shutting down).
func (f *leaseFence) wait(ctx context.Context, nodeID string, _ map[string]any) error {
	for {
		closed, wake := f.closed(time.Now())
		if !closed {
			f.setPaused(false, nodeID)
			return nil
		}
		f.setPaused(true, nodeID)
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-wake:
		}
	}
}

func (f *leaseFence) setPaused(paused bool, nodeID string) {
	f.mu.Lock()
	changed := f.paused != paused
	f.paused = paused
	since := time.Since(f.confirmed)
	f.mu.Unlock()
	switch {
	case changed && paused:
		f.log.Warn("run paused: the lease is not confirmed; no node starts until a heartbeat gets through",
			"job", f.job, "attempt", f.attempt, "before_node", nodeID, "unconfirmed_for", since.Round(time.Millisecond))
	case changed:
		f.log.Info("run resumed: heartbeat confirmed", "job", f.job, "attempt", f.attempt, "before_node", nodeID)
	}
}
