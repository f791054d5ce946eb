package peer

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
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
// The numbers of its log lines (Progress.LogsEnd) go in the query, which
// a server that predates them ignores.
func (p *Client) RobotProgress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	var ends []int
	cmd.Items, ends = unnumberProgress(cmd.Items)
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/progress", cmd, withLogsEnds(ends))
}

// RobotHandBack returns a leaving robot's unfinished jobs to the queue,
// with their log lines numbered as RobotProgress numbers them.
func (p *Client) RobotHandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	var ends []int
	cmd.Items, ends = unnumberProgress(cmd.Items)
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/handback", cmd, withLogsEnds(ends))
}

// RobotCrashed reports the runs a robot's previous process died in.
func (p *Client) RobotCrashed(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error) {
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/crashed", cmd)
}

// RobotComplete reports finished attempts; an item with a stale fencing
// token is refused in its ack.
// Their log lines are numbered as RobotProgress numbers them.
func (p *Client) RobotComplete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	var ends []int
	cmd.Items, ends = unnumber(cmd.Items, func(d *consensus.Completion) *int { return &d.LogsEnd })
	return post[[]consensus.Ack](ctx, p, "/internal/v1/robot/complete", cmd, withLogsEnds(ends))
}

func unnumberProgress(items []consensus.Progress) ([]consensus.Progress, []int) {
	return unnumber(items, func(p *consensus.Progress) *int { return &p.LogsEnd })
}

// unnumber returns a copy of items without their logs_end, which a server
// that predates it refuses in the body, and the numbers, one per item;
// no numbers when no item has one.
func unnumber[T any](items []T, end func(*T) *int) ([]T, []int) {
	if !slices.ContainsFunc(items, func(it T) bool { return *end(&it) != 0 }) {
		return items, nil
	}
	out := slices.Clone(items)
	ends := make([]int, len(out))
	for i := range out {
		ends[i], *end(&out[i]) = *end(&out[i]), 0
	}
	return out, ends
}

// withLogsEnds adds ?logs_end=<n> for each item, in the items' order.
func withLogsEnds(ends []int) client.CallOption {
	return func(r *http.Request) {
		if len(ends) == 0 {
			return
		}
		q := r.URL.Query()
		for _, n := range ends {
			q.Add("logs_end", strconv.Itoa(n))
		}
		r.URL.RawQuery = q.Encode()
	}
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
