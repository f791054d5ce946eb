package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/gatewayproto"
)

// work serves gatewayproto.MethodWork: a robot's claim together with the
// completions of the jobs whose end freed its slots.
//
// When the claim may go at once (work is queued for it, or it is a
// retry), the completions and the claim go to the store in one step and
// share an entry (consensus.RobotQueue.Work). When the claim must wait
// for work, the completions go meanwhile, on their own: a claim held for
// work does not hold them back; only their acks wait for the answer.
func (g *gateway) work(ctx context.Context, id tunnel.Identity, req gatewayproto.WorkRequest) (gatewayproto.WorkAnswer, error) {
	if req.Complete == nil || len(req.Complete.Items) == 0 {
		jobs, err := g.claim(ctx, id, req.Claim)
		return workAnswer(req.Claim, consensus.WorkOutcome{Jobs: jobs}, err)
	}
	done := *req.Complete
	done.RobotID = id.RobotID
	if cmd := claimCmd(id, req.Claim); req.Claim.Max > 0 {
		if release, ok := g.claimNow(cmd, req.Claim); ok {
			defer release()
			out, err := g.store.Work(ctx, done, cmd)
			out.Jobs = consensus.OmitHeldGraphs(out.Jobs, req.Claim.Have)
			return workAnswer(req.Claim, out, err)
		}
	}
	var out consensus.WorkOutcome
	var reports sync.WaitGroup
	reports.Go(func() {
		out.Acks, out.CompleteErr = g.queue.Complete(ctx, done)
	})
	jobs, err := g.claim(ctx, id, req.Claim)
	reports.Wait()
	out.Jobs = jobs
	return workAnswer(req.Claim, out, err)
}

// claimNow reports whether a claim may go without waiting for work: a
// retry never waits (gateway.claim), and otherwise the bell must let it
// go at once. The caller calls release once the claim has returned.
func (g *gateway) claimNow(cmd consensus.ClaimCmd, req gatewayproto.ClaimRequest) (release func(), ok bool) {
	if req.WaitMS <= 0 {
		return func() {}, true
	}
	return g.bell.now(cmd, time.Now())
}

// workAnswer is a work call's answer: a failed claim fails the whole
// call, and the robot sends its completions again; one that had
// committed is then refused as stale, which the robot notes at info
// (docs/design.md, Finish).
func workAnswer(req gatewayproto.ClaimRequest, out consensus.WorkOutcome, err error) (gatewayproto.WorkAnswer, error) {
	if err != nil {
		return gatewayproto.WorkAnswer{}, fmt.Errorf("claim: %w", err)
	}
	ans := gatewayproto.WorkAnswer{Acks: out.Acks}
	if out.CompleteErr != nil {
		ans.Acks, ans.CompleteError = nil, out.CompleteErr.Error()
	}
	if !req.Compact {
		ans.Jobs = out.Jobs
		return ans, nil
	}
	ans.Compact = make([]gatewayproto.WorkJob, len(out.Jobs))
	for i, j := range out.Jobs {
		ans.Compact[i] = gatewayproto.WorkJobOf(j)
	}
	return ans, nil
}
