package robot

import (
	"context"
	"slices"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
	"github.com/casare/casare/internal/retry"
)

// reportProgress sends one batched heartbeat for all running jobs per
// tick, and an early report as soon as a run checkpoints. An ack that
// says stop cancels the run.
func (r *Robot) reportProgress(ctx context.Context) {
	t := time.NewTicker(r.cfg.ReportInterval)
	defer t.Stop()
	for {
		early := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.nudge:
			early = true
		}
		runs := r.reportable(early)
		if len(runs) == 0 {
			continue
		}
		cmd := consensus.ProgressCmd{RobotID: r.cfg.ID}
		checkpoints := make(map[string]*executor.Checkpoint, len(runs))
		for id, ru := range runs {
			p, cp := ru.takeProgress()
			cmd.Items = append(cmd.Items, p)
			checkpoints[id] = cp
		}
		sent := time.Now()
		callCtx, cancel := context.WithTimeout(ctx, r.heartbeatTimeout())
		acks, err := r.queue.Progress(callCtx, cmd)
		cancel()
		if err != nil {
			r.log.Warn("heartbeat failed", "jobs", len(cmd.Items), "err", err)
			for _, p := range cmd.Items {
				runs[p.JobID].giveBack(p, checkpoints[p.JobID])
			}
			continue
		}
		for _, p := range cmd.Items {
			runs[p.JobID].delivered()
		}
		for _, ack := range acks {
			switch ru := runs[ack.JobID]; {
			case ru == nil:
			case ack.Stop:
				ru.stop(ack.Reason)
			case ack.OK:
				ru.fence.confirm(renewedNoSooner(sent, ack.Waited, time.Now()))
				if ack.Debug != nil && ru.debug != nil {
					ru.debug.command(*ack.Debug)
				}
			}
		}
		if early {
			retry.Sleep(ctx, nudgeGap)
		}
	}
}

// renewedNoSooner is the earliest moment, on this robot's clock, at
// which the leader can have renewed a lease for a heartbeat sent at sent
// that the node held for waited before sending it on (consensus.Ack.Waited):
// the node measures waited on its own clock from the heartbeat's arrival,
// which came after the send. It is never later than the answer.
func renewedNoSooner(sent time.Time, waited time.Duration, answered time.Time) time.Time {
	if t := sent.Add(max(waited, 0)); t.Before(answered) {
		return t
	}
	return answered
}

// heartbeatTimeout bounds one heartbeat call. A call stuck in a cut or
// behind a lost leader would otherwise hold the next heartbeat back for
// the store's whole apply timeout, and a paused run would wait that long
// after the link is back. Waiting longer than FenceAfter buys nothing: a
// fence counts from the send, so so late an answer could not reopen it.
func (r *Robot) heartbeatTimeout() time.Duration { return r.cfg.FenceAfter }

// reportable returns the runs a progress report covers: every active
// run on a tick, only those with an unreported checkpoint when a
// checkpoint asked for an early report.
func (r *Robot) reportable(early bool) map[string]*run {
	r.mu.Lock()
	defer r.mu.Unlock()
	runs := make(map[string]*run, len(r.active))
	for id, ru := range r.active {
		if !early || ru.hasNews() {
			runs[id] = ru
		}
	}
	return runs
}

// reportCompletions batches completions until r.done is closed:
// whatever has queued up while the previous batch was in flight goes in
// the next one.
func (r *Robot) reportCompletions(ctx context.Context) {
	if _, ok := r.queue.(WorkQueue); ok {
		r.reportCompletionsHanding(ctx)
		return
	}
	for c := range r.done {
		r.completeBatch(ctx, r.drainDone(c))
	}
}

// maxCompletionBatch bounds the completions of one report call.
const maxCompletionBatch = 512

// drainDone returns c with whatever else has queued up in r.done.
func (r *Robot) drainDone(c completion) []completion {
	batch := []completion{c}
	for len(batch) < maxCompletionBatch {
		select {
		case c, ok := <-r.done:
			if !ok {
				return batch
			}
			batch = append(batch, c)
		default:
			return batch
		}
	}
	return batch
}

// reportCompletionsHanding is reportCompletions for a queue that carries
// completions with claims: it sends what was not handed to the claim
// loop (see handover), and takes back and sends what waited too long
// there for a claim.
func (r *Robot) reportCompletionsHanding(ctx context.Context) {
	overdue := time.NewTimer(maxHandoverHold)
	defer overdue.Stop()
	for {
		select {
		case c, ok := <-r.done:
			if !ok {
				// The claim loop has stopped and given back what it held.
				return
			}
			r.completeBatch(ctx, r.drainDone(c))
		case <-r.handed:
		case <-overdue.C:
			if late, _ := r.handover.overdue(time.Now()); len(late) > 0 {
				r.completeBatch(ctx, late)
			}
		}
		if wait, ok := r.handover.waiting(time.Now()); ok {
			overdue.Reset(wait)
		}
	}
}

// completeRetry spaces the tries of a completion report; after
// completeTries (about half a minute) the robot gives up on it.
var completeRetry = retry.Policy{First: 200 * time.Millisecond, Max: 2 * time.Second}

const completeTries = 20

// completeBatch retries until the leader answers: an outcome must not be
// lost to a leader change. If the robot gives up, the lease expires and
// the job runs again from its last checkpoint.
func (r *Robot) completeBatch(ctx context.Context, batch []completion) {
	var back []completion
	batch = slices.DeleteFunc(batch, func(c completion) bool {
		if c.handBack {
			back = append(back, c)
		}
		return c.handBack
	})
	if len(back) > 0 {
		r.handBack(ctx, back)
	}
	if len(batch) == 0 {
		return
	}
	cmd := consensus.CompleteCmd{RobotID: r.cfg.ID}
	for _, c := range batch {
		cmd.Items = append(cmd.Items, c.item)
	}
	tries := 0
	p := completeRetry
	p.OnRetry = func(tries int, err error, _ time.Duration) {
		r.log.Warn("report completions", "jobs", len(batch), "attempt", tries, "err", err)
	}
	acks, err := retry.Do(ctx, p, func() ([]consensus.Ack, error) {
		acks, err := r.queue.Complete(ctx, cmd)
		if tries++; err != nil && tries == completeTries {
			return nil, retry.Permanent(err)
		}
		return acks, err
	})
	if err != nil {
		r.log.Error("completions not reported; their leases will expire and the jobs run again from their checkpoints",
			"jobs", len(batch), "err", err)
		return
	}
	for i, a := range acks {
		if i < len(batch) {
			r.logCompletion(ctx, batch[i], a, tries)
		}
	}
}

// logCompletion says what became of one reported completion. Refused on
// the first try, it means the cluster did not record the run's outcome
// (the lease had gone: expired, cancelled, leased again), which an
// operator should see. Refused on a retry, it is what a completion that
// committed under a try whose answer was lost gets too: it may be no
// news, so it is noted without a warning.
func (r *Robot) logCompletion(ctx context.Context, c completion, a consensus.Ack, tries int) {
	attrs := []any{"job", a.JobID, "attempt", c.attempt, "succeeded", c.item.Succeeded}
	switch {
	case a.OK:
		r.log.DebugContext(ctx, "job reported", append(attrs, "state", a.State)...)
	case tries == 1 && !c.resent:
		r.log.WarnContext(ctx, "completion refused: the cluster did not record this run's outcome", append(attrs, "reason", a.Reason)...)
	default:
		r.log.InfoContext(ctx, "completion refused on a retry: the try whose answer was lost recorded it, or the lease had gone",
			append(attrs, "reason", a.Reason, "tries", tries)...)
	}
}

// handBack returns jobs cancelled at shutdown, once; if it fails their
// leases expire and they run again anyway, only later.
func (r *Robot) handBack(ctx context.Context, batch []completion) {
	cmd := consensus.HandBackCmd{RobotID: r.cfg.ID, Reason: "robot " + r.cfg.ID + " is shutting down"}
	for _, c := range batch {
		cmd.Items = append(cmd.Items, consensus.Progress{
			JobID: c.item.JobID, Token: c.item.Token, Checkpoint: c.item.Checkpoint, Logs: c.item.Logs, LogsEnd: c.item.LogsEnd,
			NodeStatus: c.item.NodeStatus,
		})
	}
	if _, err := r.queue.HandBack(ctx, cmd); err != nil {
		r.log.Warn("hand back jobs", "jobs", len(batch), "err", err)
	}
}
