package node

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/node/peer"
	"github.com/casare/casare/node/robot"
)

// remoteQueue serves the robot of a node that holds no Raft state: every
// call goes over HTTP to a live server, found through gossip.
type remoteQueue struct {
	mesh *mesh.Mesh
	// pool is the one HTTP client every call goes through, whichever
	// server it picks: a client per call opened a connection per call and
	// left each idle for 90 s. It dials servers' cluster ports with this
	// node's certificate.
	pool *peer.Client
}

func newRemoteQueue(m *mesh.Mesh, hc *http.Client) remoteQueue {
	return remoteQueue{mesh: m, pool: peer.New("", client.WithHTTPClient(hc))}
}

// remoteWait is how long one wait call may be held at the server.
const remoteWait = 20 * time.Second

func (q remoteQueue) server() (*peer.Client, error) {
	addr := pickServerCluster(q.mesh)
	if addr == "" {
		return nil, errors.New("no live server in gossip")
	}
	return q.pool.At("http://" + addr), nil
}

func (q remoteQueue) WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error {
	c, err := q.server()
	if err != nil {
		retry.Sleep(ctx, robot.WorkPoll)
		return err
	}
	work, err := c.RobotWait(ctx, cmd, remoteWait)
	if err != nil {
		retry.Sleep(ctx, robot.WorkPoll)
		return err
	}
	if !work {
		return errors.New("no work yet")
	}
	return nil
}

func (q remoteQueue) Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	c, err := q.server()
	if err != nil {
		return nil, err
	}
	return c.RobotClaim(ctx, cmd)
}

func (q remoteQueue) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	c, err := q.server()
	if err != nil {
		return nil, err
	}
	return c.RobotProgress(ctx, cmd)
}

func (q remoteQueue) HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	c, err := q.server()
	if err != nil {
		return nil, err
	}
	return c.RobotHandBack(ctx, cmd)
}

func (q remoteQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	c, err := q.server()
	if err != nil {
		return nil, err
	}
	return c.RobotComplete(ctx, cmd)
}

// Graph fetches a workflow version's graph that a claim left out.
func (q remoteQueue) Graph(ctx context.Context, ref consensus.GraphRef) (json.RawMessage, error) {
	c, err := q.server()
	if err != nil {
		return nil, err
	}
	return c.RobotGraph(ctx, ref)
}

func (q remoteQueue) ReportCrash(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error) {
	c, err := q.server()
	if err != nil {
		return nil, err
	}
	return c.RobotCrashed(ctx, cmd)
}
