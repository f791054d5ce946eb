package node

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/gatewayproto"
	"github.com/casare/casare/node/robot"
)

// maxClaimWait caps how long one claim call may be held open.
const maxClaimWait = 25 * time.Second

// gatewayStore is what the gateway reads and writes of the replicated
// state besides the robots' queue: tokens to check robots against, the
// robots' records, the jobs of a shut-out robot, the servers' addresses.
type gatewayStore interface {
	Token(id string) (consensus.RobotToken, bool)
	AuthorizeRobot(tokenID string, ask consensus.RobotProfile, now time.Time) (consensus.RobotProfile, error)
	SetRobotStatus(ctx context.Context, r consensus.RobotRecord) error
	RunningJobs() map[string]consensus.Holding
	Job(id string) (job consensus.Job, found bool, index uint64)
	Nodes() []consensus.NodeInfo
	WaitConsistent(ctx context.Context) (uint64, error)
	AppliedChanged() (uint64, <-chan struct{})
	HasClaimable(cmd consensus.ClaimCmd, now time.Time) bool
	ClaimableUpTo(cmd consensus.ClaimCmd, now time.Time, limit int) int
	VersionGraph(ref consensus.GraphRef) (json.RawMessage, bool)
	Work(ctx context.Context, done consensus.CompleteCmd, claim consensus.ClaimCmd) (consensus.WorkOutcome, error)
}

// gateway serves internet robots that dial this node over QUIC: it
// authenticates them against the replicated tokens, relays their claims,
// heartbeats and results to the leader, and records their presence.
type gateway struct {
	name  string
	store gatewayStore
	queue robot.Queue
	// bell holds claims until there is work for them.
	bell *workBell
	log  *slog.Logger
	srv  *tunnel.Server
	// isNode reports whether a name belongs to a gossip member, whose
	// LAN robot already uses it.
	isNode func(name string) bool
	// closing is set while the node shuts down: the disconnects that
	// follow are this node's doing, and with the cluster perhaps gone
	// too there may be no leader to record them.
	closing atomic.Bool
}

func (g *gateway) close() error {
	g.closing.Store(true)
	return g.srv.Close()
}

func (n *Node) startGateway(ctx context.Context) error {
	g := &gateway{
		name: n.cfg.Name, store: n.store, queue: robot.StoreQueue{Store: n.store}, bell: newWorkBell(n.store), log: n.log.With("part", "gateway"),
		isNode: func(name string) bool { _, _, ok := n.mesh.MemberState(name); return ok },
	}
	var err error
	g.srv, err = tunnel.Listen(n.cfg.quicBind(), tunnel.ServerConfig{
		TLSCert: n.tunnelID.Cert, TokenHash: g.tokenHash, CatchUp: g.catchUp, Authenticate: g.authenticate, Handler: g.handle,
		OnConnect: g.connected, OnDisconnect: g.disconnected, Logger: g.log,
	})
	if err != nil {
		return fmt.Errorf("listen for internet robots on %s: %w", n.cfg.quicBind(), err)
	}
	n.gateway = g
	n.wg.Go(func() {
		if err := g.srv.Serve(ctx); err != nil {
			g.log.Error("QUIC listener stopped", "err", err)
		}
	})
	n.wg.Go(func() { g.watchTokens(ctx) })
	n.wg.Go(func() { g.bell.run(ctx) })
	g.log.Info("internet robots may dial in", "addr", g.srv.Addr().String())
	return nil
}

// tokenHash returns the stored hash of a token's secret. It does not
// wait: the tunnel calls catchUp before refusing an unknown id and a wrong
// secret alike.
func (g *gateway) tokenHash(id string) ([]byte, bool) {
	t, ok := g.store.Token(id)
	if !ok {
		return nil, false
	}
	hash, err := hex.DecodeString(t.Hash)
	return hash, err == nil
}

// tokenCatchUp bounds the wait for this replica to catch up with the
// leader before a token is refused: a token made a moment ago elsewhere
// is applied here within a heartbeat or two.
const tokenCatchUp = 3 * time.Second

// catchUp brings this replica up to the leader's commit index, so that a
// token created a moment ago elsewhere is found.
func (g *gateway) catchUp(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, tokenCatchUp)
	defer cancel()
	_, err := g.store.WaitConsistent(ctx)
	return err
}

func (g *gateway) connected(c *tunnel.Conn) {
	g.record(c.Identity(), true)
}

func (g *gateway) disconnected(c *tunnel.Conn, err error) {
	g.log.Info("internet robot disconnected", "robot", c.Identity().RobotID, "err", err)
	if !g.closing.Load() {
		g.record(c.Identity(), false)
	}
}

// record replicates where an internet robot is connected. Its jobs are
// not requeued on a disconnect: it may be reconnecting to another node,
// and its leases decide.
func (g *gateway) record(id tunnel.Identity, connected bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := g.store.SetRobotStatus(ctx, consensus.RobotRecord{
		ID: id.RobotID, Kind: consensus.RobotInternet, Node: g.name, Tags: id.Tags,
		Capacity: id.Capacity, Connected: connected,
	})
	if err != nil {
		g.log.Warn("record internet robot", "robot", id.RobotID, "connected", connected, "err", err)
	}
}

// handle serves one call. The robot id always comes from the
// authenticated identity, never from the request.
func (g *gateway) handle(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
	out, err := g.serve(ctx, method, body)
	return out, coded(err)
}

// badCallError is a call the gateway refused as it came: a body that
// does not decode or breaks a rule of its method, or an unknown method.
type badCallError struct{ err error }

func (e badCallError) Error() string { return e.err.Error() }
func (e badCallError) Unwrap() error { return e.err }

// badCall wraps err as a refused call.
func badCall(err error) error { return badCallError{err} }

// coded gives err the code a robot can act on: invalid for a refused
// call, the store's own code (not_found, conflict, no_leader …) for a
// refusal of the cluster's, and the tunnel's internal for the rest. The
// store's invalid stays internal: besides a robot's bad report it marks
// the server's own failures (an entry the FSM skipped, a forward from
// another build refused), and a merged entry hands them to every robot
// in it.
func coded(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[badCallError](err); ok {
		return &tunnel.RemoteError{Code: consensus.CodeInvalid, Message: err.Error()}
	}
	if code := consensus.ErrorCode(err); code != consensus.CodeInternal && code != consensus.CodeInvalid {
		return &tunnel.RemoteError{Code: code, Message: err.Error()}
	}
	return err
}

func (g *gateway) serve(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error) {
	id, ok := tunnel.IdentityFrom(ctx)
	if !ok {
		return nil, errors.New("unauthenticated call")
	}
	if err := gatewayproto.CheckContainers(method, body); err != nil {
		return nil, badCall(err)
	}
	switch method {
	case gatewayproto.MethodClaim:
		var req gatewayproto.ClaimRequest
		if err := json.Unmarshal(body, &req); err != nil {
			return nil, badCall(fmt.Errorf("decode claim: %w", err))
		}
		return marshal(g.claim(ctx, id, req))
	case gatewayproto.MethodProgress:
		var cmd consensus.ProgressCmd
		if err := consensus.DecodeJSON(body, &cmd); err != nil {
			return nil, badCall(fmt.Errorf("decode progress: %w", err))
		}
		cmd.RobotID = id.RobotID
		return marshal(g.queue.Progress(ctx, cmd))
	case gatewayproto.MethodComplete:
		var cmd consensus.CompleteCmd
		if err := consensus.DecodeJSON(body, &cmd); err != nil {
			return nil, badCall(fmt.Errorf("decode completion: %w", err))
		}
		cmd.RobotID = id.RobotID
		return marshal(g.queue.Complete(ctx, cmd))
	case gatewayproto.MethodHandBack:
		var cmd consensus.HandBackCmd
		if err := json.Unmarshal(body, &cmd); err != nil {
			return nil, badCall(fmt.Errorf("decode hand-back: %w", err))
		}
		cmd.RobotID = id.RobotID
		return marshal(g.queue.HandBack(ctx, cmd))
	case gatewayproto.MethodWork:
		req, err := gatewayproto.DecodeWorkRequest(body)
		if err != nil {
			return nil, badCall(err)
		}
		ans, err := g.work(ctx, id, req)
		if err != nil {
			return nil, err
		}
		return ans.AppendJSON(nil)
	case gatewayproto.MethodCluster:
		return marshal(g.clusterInfo(), nil)
	case gatewayproto.MethodGraph:
		var ref consensus.GraphRef
		if err := json.Unmarshal(body, &ref); err != nil {
			return nil, badCall(fmt.Errorf("decode graph request: %w", err))
		}
		return marshal(g.graph(ctx, ref))
	}
	return nil, badCall(fmt.Errorf("unknown method %q", method))
}

func (g *gateway) claim(ctx context.Context, id tunnel.Identity, req gatewayproto.ClaimRequest) ([]consensus.ClaimedJob, error) {
	if req.Max <= 0 {
		return nil, badCall(errors.New("claim max must be positive"))
	}
	cmd := claimCmd(id, req)
	if req.WaitMS <= 0 {
		// A retry: what the first try leased is no longer claimable, so
		// waiting for work would hide it; the store replays it.
		jobs, err := g.queue.Claim(ctx, cmd)
		return consensus.OmitHeldGraphs(jobs, req.Have), err
	}
	wait := min(time.Duration(req.WaitMS)*time.Millisecond, maxClaimWait)
	waitCtx, cancel := context.WithTimeout(ctx, wait)
	done, err := g.bell.wait(waitCtx, cmd)
	cancel()
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, context.DeadlineExceeded):
		return nil, nil // no work within the wait: the robot asks again
	default:
		return nil, err // dismissed: this node has no leader
	}
	defer done()
	jobs, err := g.queue.Claim(ctx, cmd)
	return consensus.OmitHeldGraphs(jobs, req.Have), err
}

// claimCmd is the claim a robot's request makes. The capacity the robot
// was given at the handshake (perhaps fixed by its token) caps what one
// claim may take, whatever it asks.
func claimCmd(id tunnel.Identity, req gatewayproto.ClaimRequest) consensus.ClaimCmd {
	return consensus.ClaimCmd{RobotID: id.RobotID, RobotKind: consensus.RobotInternet, Tags: id.Tags,
		Max: min(req.Max, max(id.Capacity, 1)), RequestID: req.RequestID}
}

// graph serves a workflow version's graph to a robot that lacks it. The
// robot was leased the version's job by the leader, so a replica that
// does not know the version yet catches up first.
func (g *gateway) graph(ctx context.Context, ref consensus.GraphRef) (gatewayproto.GraphAnswer, error) {
	if graph, ok := g.store.VersionGraph(ref); ok {
		return gatewayproto.GraphAnswer{Graph: graph}, nil
	}
	if err := g.catchUp(ctx); err != nil {
		return gatewayproto.GraphAnswer{}, fmt.Errorf("graph of %s: %w", ref, err)
	}
	graph, ok := g.store.VersionGraph(ref)
	if !ok {
		return gatewayproto.GraphAnswer{}, &consensus.Error{Code: consensus.CodeNotFound, Message: fmt.Sprintf("no workflow version %s", ref)}
	}
	return gatewayproto.GraphAnswer{Graph: graph}, nil
}

func (g *gateway) clusterInfo() gatewayproto.ClusterInfo {
	info := gatewayproto.ClusterInfo{Features: []string{gatewayproto.FeatureWork}}
	for _, n := range g.store.Nodes() {
		if n.QUICAddr != "" {
			info.QUICAddrs = append(info.QUICAddrs, n.QUICAddr)
		}
	}
	return info
}

func marshal[T any](v T, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}
