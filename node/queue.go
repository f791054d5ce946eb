package node

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
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
	// shunned are the servers that answered no_leader (or another
	// sendsElsewhere code) lately.
	shunned *shunned
}

func newRemoteQueue(m *mesh.Mesh, hc *http.Client) remoteQueue {
	return remoteQueue{mesh: m, pool: peer.New("", client.WithHTTPClient(hc)), shunned: newShunned()}
}

// remoteWait is how long one wait call may be held at the server.
const remoteWait = 20 * time.Second

// noLeaderPause is how long the robot waits before its next wait call
// after a server answered one no_leader (or another sendsElsewhere code).
const noLeaderPause = time.Second

// shunLeaderless is how long the robot keeps away from a server that
// answered no_leader (or, likewise, not_member or catching_up: see
// sendsElsewhere). A server that robots reach but the other servers
// do not (a partial partition) stays alive in gossip and has no leader;
// its replica shows no new work, and a robot that kept calling it would
// wait there for as long as the cut lasts while other servers could give
// it jobs. A server that answers no_leader to everyone (quorum lost) is
// shunned with the others, and the robot goes on calling the first of
// them until one has a leader.
const shunLeaderless = 30 * time.Second

// shunned are the servers a robot-only node keeps away from, by address,
// until when.
type shunned struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func newShunned() *shunned { return &shunned{until: map[string]time.Time{}} }

func (s *shunned) add(addr string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.until[addr] = now.Add(shunLeaderless)
}

// pick returns the first of addrs not shunned at now or, when each is,
// the one shunned longest ago, so that a robot whose servers all
// answered no_leader (an election, quorum lost) goes round them rather
// than calling one that keeps answering so; "" when addrs is empty.
func (s *shunned) pick(addrs []string, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, until := range s.until {
		if !now.Before(until) {
			delete(s.until, addr)
		}
	}
	best := ""
	for _, a := range addrs {
		until, ok := s.until[a]
		if !ok {
			return a
		}
		if best == "" || until.Before(s.until[best]) {
			best = a
		}
	}
	return best
}

// liveServers are the addresses (the cluster port's, or the API's) of
// the servers gossip shows alive, in name order.
func liveServers(m *mesh.Mesh, addr func(mesh.Meta) string) []string {
	var addrs []string
	for _, mem := range m.Members() {
		if a := addr(mem.Meta); mem.State == mesh.StateAlive && slices.Contains(mem.Meta.Roles, wire.RoleServer) && a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

func clusterAddr(m mesh.Meta) string { return m.RaftAddr }
func httpAddr(m mesh.Meta) string    { return m.HTTPAddr }

// call runs fn against a live server, and shuns that server for a while
// if it answered that it has no leader.
func call[T any](q remoteQueue, fn func(*peer.Client) (T, error)) (T, error) {
	addr := q.shunned.pick(liveServers(q.mesh, clusterAddr), time.Now())
	if addr == "" {
		var zero T
		return zero, errors.New("no live server in gossip")
	}
	out, err := fn(q.pool.At("http://" + addr))
	if toldElsewhere(err) {
		q.shunned.add(addr, time.Now())
	}
	return out, err
}

// toldElsewhere reports whether a server answered err because it cannot
// serve the cluster now (sendsElsewhere).
func toldElsewhere(err error) bool {
	var apiErr *client.APIError
	return errors.As(err, &apiErr) && sendsElsewhere(apiErr.Code)
}

// sendsElsewhere reports whether an error code says that this server
// cannot serve the cluster for now while another may: it knows no
// leader, it is no longer a member, or it is replaying its log after a
// restart. A robot-only node shuns a server that answers one of them.
func sendsElsewhere(code string) bool {
	return code == consensus.CodeNoLeader || code == consensus.CodeNotMember || code == api.CodeCatchingUp
}

func (q remoteQueue) WaitWork(ctx context.Context, cmd consensus.ClaimCmd) error {
	work, err := call(q, func(c *peer.Client) (bool, error) { return c.RobotWait(ctx, cmd, remoteWait) })
	if err != nil {
		pause := robot.WorkPoll
		if toldElsewhere(err) {
			// A server that cannot serve the cluster answers at once;
			// while the cluster has lost its quorum that would be a call
			// every WorkPoll from every robot.
			pause = noLeaderPause
		}
		retry.Sleep(ctx, pause)
		return err
	}
	if !work {
		return errors.New("no work yet")
	}
	return nil
}

func (q remoteQueue) Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	return call(q, func(c *peer.Client) ([]consensus.ClaimedJob, error) { return c.RobotClaim(ctx, cmd) })
}

func (q remoteQueue) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	return call(q, func(c *peer.Client) ([]consensus.Ack, error) { return c.RobotProgress(ctx, cmd) })
}

func (q remoteQueue) HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	return call(q, func(c *peer.Client) ([]consensus.Ack, error) { return c.RobotHandBack(ctx, cmd) })
}

func (q remoteQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	return call(q, func(c *peer.Client) ([]consensus.Ack, error) { return c.RobotComplete(ctx, cmd) })
}

// Graph fetches a workflow version's graph that a claim left out.
func (q remoteQueue) Graph(ctx context.Context, ref consensus.GraphRef) (json.RawMessage, error) {
	return call(q, func(c *peer.Client) (json.RawMessage, error) { return c.RobotGraph(ctx, ref) })
}

func (q remoteQueue) ReportCrash(ctx context.Context, cmd consensus.CrashCmd) ([]consensus.Ack, error) {
	return call(q, func(c *peer.Client) ([]consensus.Ack, error) { return c.RobotCrashed(ctx, cmd) })
}
