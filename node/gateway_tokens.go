package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
	"github.com/casare/casare/mesh/tunnel"
)

// authenticate decides what a robot that proved it holds a token is: the
// token's fixed name, tags and capacity win over what it asks for.
func (g *gateway) authenticate(_ context.Context, hello tunnel.Hello) (tunnel.Identity, error) {
	// Robot names and tags are shown in the API, the dashboard and the
	// CLI: refuse what could rewrite an operator's screen.
	if err := errors.Join(api.CheckName("name", hello.Name), api.CheckNames("tags", hello.Tags)); err != nil {
		return tunnel.Identity{}, fmt.Errorf("robot hello: %w", err)
	}
	got, err := g.store.AuthorizeRobot(hello.TokenID,
		consensus.RobotProfile{Name: hello.Name, Tags: hello.Tags, Capacity: hello.Capacity}, time.Now())
	if err != nil {
		return tunnel.Identity{}, err
	}
	if g.isNode(got.Name) {
		return tunnel.Identity{}, fmt.Errorf("robot name %q is the name of a cluster node; choose another --name", got.Name)
	}
	return tunnel.Identity{RobotID: got.Name, TokenID: hello.TokenID, Tags: got.Tags, Capacity: max(got.Capacity, 1)}, nil
}

// tokenCheckGap is the least time between two sweeps of the live tunnels
// for revoked or expired tokens: the sweep follows Raft's applied index,
// which under load moves thousands of times a second, and a revocation
// taking effect within this gap is still "at once" to an operator.
const tokenCheckGap = 50 * time.Millisecond

// tokenExpiryCheck is how often the tunnels are swept when Raft is idle,
// so that a token expiring mid-session closes its tunnel within it.
const tokenExpiryCheck = time.Second

// watchTokens closes the tunnel of every robot whose token has been
// revoked or has expired, as soon as this replica applies the revocation
// or the clock passes the expiry, and hands the robot's jobs back to the
// queue. It returns when ctx ends.
func (g *gateway) watchTokens(ctx context.Context) {
	tick := time.NewTicker(tokenExpiryCheck)
	defer tick.Stop()
	for {
		_, changed := g.store.AppliedChanged()
		g.closeRevoked(ctx, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
		retry.Sleep(ctx, tokenCheckGap)
	}
}

// closeRevoked closes the tunnels whose tokens may no longer be used.
func (g *gateway) closeRevoked(ctx context.Context, now time.Time) {
	for _, c := range g.srv.Conns() {
		id := c.Identity()
		t, ok := g.store.Token(id.TokenID)
		err := error(nil)
		if !ok {
			err = fmt.Errorf("robot token %s no longer exists", id.TokenID)
		} else {
			err = t.Usable(now)
		}
		if err == nil {
			continue
		}
		g.log.Info("closing the tunnel of a robot whose token may no longer be used", "robot", id.RobotID, "reason", err)
		_ = c.Revoke(err.Error())
		g.requeue(ctx, id.RobotID, err.Error())
	}
}

// requeue hands a shut-out robot's jobs back to the queue at once rather
// than when their leases run out: the robot cannot report on them any
// more. They go back as a hand-back, so the attempt is not spent: the
// robot did not fail them, the operator shut it out.
func (g *gateway) requeue(ctx context.Context, robotID, reason string) {
	cmd := consensus.HandBackCmd{RobotID: robotID, Reason: "robot shut out: " + reason}
	for _, jobID := range g.store.RunningJobs()[robotID].Jobs {
		if j, ok, _ := g.store.Job(jobID); ok && j.Lease != nil && j.Lease.RobotID == robotID {
			cmd.Items = append(cmd.Items, consensus.Progress{JobID: j.ID, Token: j.Lease.Token})
		}
	}
	if len(cmd.Items) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := g.queue.HandBack(ctx, cmd); err != nil {
		g.log.Warn("hand back the jobs of a shut-out robot; their leases will expire instead", "robot", robotID, "err", err)
		return
	}
	g.log.Info("handed back the jobs of a shut-out robot", "robot", robotID, "jobs", len(cmd.Items))
}
