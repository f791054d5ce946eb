package robot

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node/gatewayproto"
)

// WorkQueue is a Queue that can carry completions with a claim, so that
// a job costs its robot one round trip to the cluster instead of two.
// The robot hands its claim loop the completions that freed its slots
// when that loop is about to claim anyway (see Robot.reportCompletions).
type WorkQueue interface {
	Queue
	// ClaimCompleting claims as Claim does and reports done's items as
	// Complete does. err is the claim's error: after one the robot sends
	// the completions again on their own. out.CompleteErr, with a nil
	// err, says the completions alone were not reported.
	ClaimCompleting(ctx context.Context, cmd consensus.ClaimCmd, done consensus.CompleteCmd) (out WorkOutcome, err error)
}

// WorkOutcome is what a ClaimCompleting call came back with.
type WorkOutcome struct {
	Jobs        []consensus.ClaimedJob
	Acks        []consensus.Ack
	CompleteErr error
}

// ClaimCompleting sends the claim and the completions in one
// gatewayproto.MethodWork call when the node serves it, and otherwise in
// a claim and a completion call side by side (a node that predates
// MethodWork).
func (q *TunnelQueue) ClaimCompleting(ctx context.Context, cmd consensus.ClaimCmd, done consensus.CompleteCmd) (WorkOutcome, error) {
	conn, err := q.connection(ctx)
	if err != nil {
		return WorkOutcome{}, err
	}
	q.mu.Lock()
	work := q.workConn == conn
	q.mu.Unlock()
	if !work {
		return q.claimBeside(ctx, cmd, done)
	}
	req := gatewayproto.WorkRequest{Claim: q.claimRequest(cmd)}
	req.Claim.Compact = true
	if len(done.Items) > 0 {
		req.Complete = &done
	}
	body, err := req.AppendJSON(nil)
	if err != nil {
		return WorkOutcome{}, fmt.Errorf("encode work call: %w", err)
	}
	var reply json.RawMessage
	if err := q.callOn(ctx, conn, gatewayproto.MethodWork, json.RawMessage(body), &reply); err != nil {
		return WorkOutcome{}, err
	}
	var ans gatewayproto.WorkAnswer
	if err := gatewayproto.DecodeWorkAnswer(reply, &ans); err != nil {
		// As for any answer Call fails to decode (callOn): a node that
		// answers what a robot cannot read is left.
		conn.Close("work call: " + err.Error())
		return WorkOutcome{}, err
	}
	out := WorkOutcome{Jobs: ans.Claimed(), Acks: ans.Acks}
	if ans.CompleteError != "" {
		out.CompleteErr = fmt.Errorf("report completions: %s", ans.CompleteError)
	}
	return out, nil
}

// claimBeside is ClaimCompleting for a node without MethodWork.
func (q *TunnelQueue) claimBeside(ctx context.Context, cmd consensus.ClaimCmd, done consensus.CompleteCmd) (WorkOutcome, error) {
	var out WorkOutcome
	var reports sync.WaitGroup
	if len(done.Items) > 0 {
		reports.Go(func() { out.Acks, out.CompleteErr = q.Complete(ctx, done) })
	}
	jobs, err := q.Claim(ctx, cmd)
	reports.Wait()
	out.Jobs = jobs
	return out, err
}
