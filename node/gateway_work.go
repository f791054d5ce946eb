package node

import (
	"context"
	"fmt"
	"sync"

	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/gatewayproto"
)

// work serves gatewayproto.MethodWork: a robot's claim together with the
// completions of the jobs whose end freed its slots.
//
// The completions go to the leader beside the claim rather than before
// it: a completion is a Raft commit of its own (the report batcher's
// entry, which keeps heartbeats ahead of completions), and waiting for it
// would put that commit in every job's path to its next claim. A claim
// held for work does not hold the completions back either; only their
// acks wait for the answer.
func (g *gateway) work(ctx context.Context, id tunnel.Identity, req gatewayproto.WorkRequest) (gatewayproto.WorkAnswer, error) {
	var ans gatewayproto.WorkAnswer
	var reports sync.WaitGroup
	if req.Complete != nil && len(req.Complete.Items) > 0 {
		cmd := *req.Complete
		cmd.RobotID = id.RobotID
		reports.Go(func() {
			acks, err := g.queue.Complete(ctx, cmd)
			if err != nil {
				ans.CompleteError = err.Error()
				return
			}
			ans.Acks = acks
		})
	}
	jobs, err := g.claim(ctx, id, req.Claim)
	reports.Wait()
	if err != nil {
		return gatewayproto.WorkAnswer{}, fmt.Errorf("claim: %w", err)
	}
	if !req.Claim.Compact {
		ans.Jobs = jobs
		return ans, nil
	}
	ans.Compact = make([]gatewayproto.WorkJob, len(jobs))
	for i, j := range jobs {
		ans.Compact[i] = gatewayproto.WorkJobOf(j)
	}
	return ans, nil
}
