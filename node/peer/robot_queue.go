package peer

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// These methods are the queue of a robot on a robot-only node, which
// holds no replica: it claims, reports and waits for work through a
// server's internal robot endpoints.

// robotWaitSlack is how much longer than the wait itself the client
// gives the server to answer.
const robotWaitSlack = 10 * time.Second

// RobotClaim leases up to cmd.Max eligible jobs to the robot.
// The graphs the robot holds (cmd.Have) go in the query, which a server
// that predates them ignores.
func (p *Client) RobotClaim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	return post[[]consensus.ClaimedJob](ctx, p, "/internal/v1/robot/claim", cmd, withHeld(cmd.Have))
}

// withHeld adds ?have=<workflow id>@<version> for each graph held.
func withHeld(have []consensus.GraphRef) client.CallOption {
	return func(r *http.Request) {
		if len(have) == 0 {
			return
		}
		q := r.URL.Query()
		for _, ref := range have {
			q.Add("have", ref.String())
		}
		r.URL.RawQuery = q.Encode()
	}
}

// RobotGraph fetches a workflow version's graph that a claim left out.
func (p *Client) RobotGraph(ctx context.Context, ref consensus.GraphRef) (json.RawMessage, error) {
	out, err := post[api.RobotGraphResponse](ctx, p, "/internal/v1/robot/graph", ref)
	return out.Graph, err
}

// RobotProgress heartbeats the robot's jobs and records their
// checkpoints, log lines and node status; an ack with Stop says the robot
// must stop that job.
func (p *Client) RobotProgress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/progress", cmd)
}

// RobotHandBack returns a leaving robot's unfinished jobs to the queue.
func (p *Client) RobotHandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/handback", cmd)
}

// RobotCrashed reports the runs a robot's previous process died in.
func (p *Client) RobotCrashed(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error) {
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/crashed", cmd)
}

// RobotComplete reports finished attempts; an item with a stale fencing
// token is refused in its ack.
func (p *Client) RobotComplete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/complete", cmd)
}

// RobotWait waits up to timeout (the server caps it at 30 s) until a
// claim by cmd's robot could find a job, and reports whether one could.
func (p *Client) RobotWait(ctx context.Context, cmd consensus.ClaimCmd, timeout time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout+robotWaitSlack)
	defer cancel()
	var out wire.RobotWaitResponse
	err := p.c.PostJSON(ctx, "/internal/v1/robot/wait",
		api.RobotWaitRequest{ClaimCmd: cmd, TimeoutMS: int(timeout.Milliseconds())}, &out)
	return out.Work, err
}

// post sends in as JSON and decodes the answer into a new T, within
// callTimeout.
func post[T any](ctx context.Context, p *Client, path string, in any, opts ...client.CallOption) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var out T
	err := p.c.PostJSON(ctx, path, in, &out, opts...)
	return out, err
}
