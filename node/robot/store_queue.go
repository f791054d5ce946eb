package robot

import (
	"context"
	"time"

	"github.com/casare/casare/consensus"
)

// Store is what a LAN robot uses of its server's replicated store
// (*consensus.Store): the queue commands, which the store forwards to
// the leader, and the local replica's view of claimable work.
type Store interface {
	Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error)
	Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error)
	Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error)
	HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error)
	ReportCrash(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error)
	// HasClaimable reports whether a claim by cmd's robot would find a
	// job in the local replica at now.
	HasClaimable(cmd consensus.ClaimCmd, now time.Time) bool
	// AppliedChanged returns the applied index and a channel closed
	// when it next moves.
	AppliedChanged() (uint64, <-chan struct{})
	// WorkAnnounced returns a channel closed when the node, as leader,
	// hands Raft a submit with a job for cmd's robot, and a function
	// that stops the wait.
	WorkAnnounced(cmd consensus.ClaimCmd) (woken <-chan struct{}, stop func())
}

// StoreQueue serves a robot from its own node's replica: it waits on the
// local FSM for claimable work and sends claims and reports to the leader
// through the store's forwarding.
type StoreQueue struct{ Store }

// WorkPoll is how often an idle robot looks again without news: jobs
// become claimable by time alone (backoff, not_before) without any apply.
const WorkPoll = 250 * time.Millisecond

// WaitWork returns when the local replica holds a job cmd's robot may
// claim, when the node (as leader) has just handed Raft a submit with
// such a job, so that the claim follows it into the log instead of
// waiting for it to commit, or when ctx ends.
func (q StoreQueue) WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error {
	t := time.NewTicker(WorkPoll)
	defer t.Stop()
	announced, stop := q.WorkAnnounced(cmd)
	defer stop()
	for {
		_, changed := q.AppliedChanged()
		if q.HasClaimable(cmd, time.Now()) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-changed:
		case <-announced:
			return nil
		}
	}
}
