package robot

import (
	"context"

	"github.com/casare/casare/consensus"
)

// Store is what a LAN robot uses of its server's replicated store
// (*consensus.Store): the queue commands, which the store forwards to
// the leader, and the wait for claimable work in the local replica.
type Store interface {
	Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error)
	Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error)
	Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error)
	HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error)
	ReportCrash(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error)
	// WaitClaimable returns nil once a claim by cmd's robot may find a
	// job (see consensus.RobotQueue.WaitClaimable), or ctx's error.
	WaitClaimable(ctx context.Context, cmd consensus.ClaimCmd) error
}

// StoreQueue serves a robot from its own node's replica: it waits on the
// local FSM for claimable work and sends claims and reports to the leader
// through the store's forwarding.
type StoreQueue struct{ Store }

// WorkPoll is how often an idle robot looks again without news: jobs
// become claimable by time alone (backoff, not_before) without any apply.
const WorkPoll = consensus.ClaimRecheck

// WaitWork returns when a claim by cmd's robot may find a job (the local
// replica holds one, or the node as leader has just handed Raft a submit
// with one), or when ctx ends.
func (q StoreQueue) WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error {
	return q.WaitClaimable(ctx, cmd)
}
