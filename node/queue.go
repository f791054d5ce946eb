package node

import (
	"context"
	"time"

	"github.com/casare/casare/consensus"
)

// storeQueue serves a robot from its own node's replica: it waits on the
// local FSM for claimable work and sends claims and reports to the leader
// through the store's forwarding.
type storeQueue struct{ *consensus.Store }

// workPoll is how often an idle robot looks again without news: jobs
// become claimable by time alone (backoff, not_before) without any apply.
const workPoll = 250 * time.Millisecond

func (q storeQueue) WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error {
	t := time.NewTicker(workPoll)
	defer t.Stop()
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
		}
	}
}
