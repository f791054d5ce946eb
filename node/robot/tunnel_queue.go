package robot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/node/gatewayproto"
)

// TunnelQueue is an internet robot's Queue: calls go over one QUIC
// connection to a node, which relays them to the leader. When that node
// dies the queue dials the next address — from the list it was given or
// learned from the cluster — and carries on; the robot's leases survive
// the switch as long as it is back before they expire.
type TunnelQueue struct {
	cfg tunnel.ClientConfig
	log *slog.Logger

	mu      sync.Mutex
	addrs   []string
	next    int
	conn    *tunnel.Conn
	dialing chan struct{} // closed when the dial under way ends
	// lastClaim is the request id of the last claim sent: a claim sent
	// again under it is a retry and must not wait for new work.
	lastClaim string
	// workConn is the connection whose node said it serves
	// gatewayproto.MethodWork; nil until one has.
	workConn *tunnel.Conn
	// leaderless is the streak of nodes left in a row because they had
	// no leader (leaveNode); inStreak says it is not empty, so that an
	// answered call, which ends it, takes no lock otherwise.
	leaderless leaderlessStreak
	inStreak   atomic.Bool

	// refused is closed, and refusal set, once the cluster has refused
	// the robot's token: revoked, expired or never valid. No retry helps.
	refused     chan struct{}
	refusal     error
	refusedOnce sync.Once
}

// Tunnel timing on the robot's side. A call that does not return within
// callTimeout means the node is gone; a robot running jobs heartbeats
// every consensus.HeartbeatInterval and gives each heartbeat up after
// its fence delay, so it notices a dead node within about two seconds
// whatever the keep-alives do. Keep-alives every robotKeepAlive and an
// idle timeout of robotIdleTimeout (QUIC takes the smaller of both ends':
// the node's is the same 15 s) notice a dead node between calls, when
// the robot is idle and holds no lease, and let the node notice a robot
// that vanished; its jobs wait for their leases either way. They are the
// tunnel's defaults: a 1 s keep-alive and 5 s idle timeout made 1,000
// idle robots cost each node a packet in and one out per robot and
// second, most of an idle fleet's CPU after Raft's (fleet bench profile:
// quic-go's Conn.run and Transport.listen about a third of the leader's
// samples). All are well inside the default 30 s lease.
const (
	claimWait        = 20 * time.Second // how long a claim may wait at the node for work
	callTimeout      = 3 * time.Second
	robotKeepAlive   = 5 * time.Second
	robotIdleTimeout = 15 * time.Second
)

// NewTunnelQueue returns a queue that dials addrs in turn.
func NewTunnelQueue(addrs []string, cfg tunnel.ClientConfig) *TunnelQueue {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.KeepAlive == 0 {
		cfg.KeepAlive = robotKeepAlive
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = robotIdleTimeout
	}
	return &TunnelQueue{cfg: cfg, log: log, addrs: slices.Clone(addrs), refused: make(chan struct{})}
}

// Refused is closed once the cluster has refused the robot's token, on
// the first connection or later (a revoked or expired token closes the
// tunnel and is refused on every redial). RefusedErr says why.
func (q *TunnelQueue) Refused() <-chan struct{} { return q.refused }

// RefusedErr returns why the cluster refused the robot, once Refused is
// closed; nil before.
func (q *TunnelQueue) RefusedErr() error {
	select {
	case <-q.refused:
		return q.refusal
	default:
		return nil
	}
}

func (q *TunnelQueue) refuse(err error) {
	q.refusedOnce.Do(func() {
		q.refusal = err
		close(q.refused)
	})
}

// Connect dials until one address answers or ctx ends. A refused token is
// final and returned at once.
func (q *TunnelQueue) Connect(ctx context.Context) error {
	_, err := q.connection(ctx)
	return err
}

// IsAuthError reports whether err means the cluster refused the robot's
// token, or the robot refused a node that is not of its token's cluster:
// no retry can fix either.
func IsAuthError(err error) bool {
	return errors.Is(err, tunnel.ErrAuthRefused) || errors.Is(err, tunnel.ErrNodeNotTrusted)
}

// dialTimeout bounds one dial attempt, so a dead address costs little.
const dialTimeout = 5 * time.Second

// connection returns the live connection, dialling when there is none.
// One caller dials at a time, without holding q.mu, so other calls wait
// for it no longer than their own contexts allow.
func (q *TunnelQueue) connection(ctx context.Context) (*tunnel.Conn, error) {
	for {
		q.mu.Lock()
		if q.conn != nil {
			select {
			case <-q.conn.Done():
				q.conn = nil
			default:
				conn := q.conn
				q.mu.Unlock()
				return conn, nil
			}
		}
		if dialing := q.dialing; dialing != nil {
			q.mu.Unlock()
			select {
			case <-dialing:
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("wait for the connection to the cluster: %w", ctx.Err())
			}
		}
		done := make(chan struct{})
		q.dialing = done
		addrs, next := slices.Clone(q.addrs), q.next
		q.mu.Unlock()

		conn, tried, err := q.dial(ctx, addrs, next)

		q.mu.Lock()
		q.dialing, q.next = nil, next+tried
		if err == nil {
			q.conn = conn
		}
		q.mu.Unlock()
		close(done)
		if err != nil {
			return nil, err
		}
		q.learnAddrs(ctx, conn)
		return conn, nil
	}
}

// dial tries the addresses in turn, starting at next, until one answers
// or ctx ends; after each round that found no node it waits, longer each
// time (dialRetry). A refused token is final and returned at once.
func (q *TunnelQueue) dial(ctx context.Context, addrs []string, next int) (*tunnel.Conn, int, error) {
	tried := 0
	conn, err := retry.Do(ctx, dialRetry, func() (*tunnel.Conn, error) {
		var lastErr error
		for range addrs {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			addr := addrs[(next+tried)%len(addrs)]
			tried++
			dialCtx, cancel := context.WithTimeout(ctx, dialTimeout)
			conn, err := tunnel.Dial(dialCtx, addr, q.cfg)
			cancel()
			switch {
			case err == nil:
				q.log.Info("connected to the cluster", "node", addr)
				return conn, nil
			case IsAuthError(err):
				return nil, retry.Permanent(fmt.Errorf("connect to %s: %w", addr, err))
			}
			q.log.Warn("connect failed; trying the next node", "node", addr, "err", err)
			lastErr = fmt.Errorf("%s: %w", addr, err)
		}
		return nil, lastErr
	})
	if err != nil && !IsAuthError(err) {
		return nil, tried, fmt.Errorf("connect to the cluster: %w", err)
	}
	if err != nil {
		q.refuse(err)
	}
	return conn, tried, err
}

// dialRetry spaces the rounds of dials when no node answers: a node
// restarting is back within seconds, and 3 s keeps an idle robot from
// hammering a cluster that is down.
var dialRetry = retry.Policy{First: 200 * time.Millisecond, Max: 3 * time.Second}

// learnAddrs adds the cluster's QUIC addresses to the list, so the robot
// can reach nodes it was not told about.
func (q *TunnelQueue) learnAddrs(ctx context.Context, conn *tunnel.Conn) {
	var info gatewayproto.ClusterInfo
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.Call(callCtx, gatewayproto.MethodCluster, struct{}{}, &info); err != nil {
		q.log.Debug("learn cluster addresses", "err", err)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if info.Has(gatewayproto.FeatureWork) {
		q.workConn = conn
	}
	for _, a := range info.QUICAddrs {
		if !slices.Contains(q.addrs, a) {
			q.addrs = append(q.addrs, a)
		}
	}
}

// call makes one call, dropping a broken connection so the next call
// dials again.
//
// Every call has its own deadline: a node that died without closing the
// connection shows up as a call that does not return, and dropping the
// connection then — rather than after QUIC's idle timeout — gets the
// robot to another node while its leases are still valid. A deadline of
// the caller's counts too: a heartbeat gives up after the robot's fence
// delay, and a node that has not relayed it by then is no better than a
// dead one. Only a cancelled caller (the robot stopping) keeps the
// connection.
func (q *TunnelQueue) call(ctx context.Context, method string, req, resp any) error {
	conn, err := q.connection(ctx)
	if err != nil {
		return err
	}
	return q.callOn(ctx, conn, method, req, resp)
}

// callOn is call on a connection the caller chose.
func (q *TunnelQueue) callOn(ctx context.Context, conn *tunnel.Conn, method string, req, resp any) error {
	limit := callTimeout
	if method == gatewayproto.MethodClaim || method == gatewayproto.MethodWork {
		limit = claimWait + callTimeout
	}
	callCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := conn.Call(callCtx, method, req, resp)
	switch {
	case err == nil:
		if q.inStreak.Load() {
			q.mu.Lock()
			q.leaderless = leaderlessStreak{}
			q.inStreak.Store(false)
			q.mu.Unlock()
		}
	case q.leaveNode(ctx, conn, err):
		conn.Close("call failed: " + err.Error())
	}
	return err
}

// Close closes the current connection.
func (q *TunnelQueue) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.conn != nil {
		q.conn.Close("robot stopping")
		q.conn = nil
	}
}

// WaitWork returns at once: the node holds each claim until work appears.
func (q *TunnelQueue) WaitWork(ctx context.Context, _ consensus.ClaimCmd) error { return ctx.Err() }

// Claim asks the node for jobs, waiting there for work to appear.
func (q *TunnelQueue) Claim(ctx context.Context, cmd consensus.ClaimCmd) ([]consensus.ClaimedJob, error) {
	var jobs []consensus.ClaimedJob
	err := q.call(ctx, gatewayproto.MethodClaim, q.claimRequest(cmd), &jobs)
	return jobs, err
}

// claimRequest turns cmd into what goes on the wire.
func (q *TunnelQueue) claimRequest(cmd consensus.ClaimCmd) gatewayproto.ClaimRequest {
	req := gatewayproto.ClaimRequest{Max: cmd.Max, RequestID: cmd.RequestID, WaitMS: int(claimWait / time.Millisecond), Have: cmd.Have}
	q.mu.Lock()
	defer q.mu.Unlock()
	if cmd.RequestID == q.lastClaim {
		req.WaitMS = 0 // a retry: the node replays what the first try leased
	}
	q.lastClaim = cmd.RequestID
	return req
}

// Graph fetches a workflow version's graph that a claim left out.
func (q *TunnelQueue) Graph(ctx context.Context, ref consensus.GraphRef) (json.RawMessage, error) {
	var ans gatewayproto.GraphAnswer
	err := q.call(ctx, gatewayproto.MethodGraph, ref, &ans)
	return ans.Graph, err
}

// Progress sends a batch of heartbeats.
func (q *TunnelQueue) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	var acks []consensus.Ack
	err := q.call(ctx, gatewayproto.MethodProgress, cmd, &acks)
	return acks, err
}

// HandBack returns unfinished jobs at shutdown.
func (q *TunnelQueue) HandBack(ctx context.Context, cmd consensus.HandBackCmd) ([]consensus.Ack, error) {
	var acks []consensus.Ack
	err := q.call(ctx, gatewayproto.MethodHandBack, cmd, &acks)
	return acks, err
}

// Complete sends a batch of completions.
func (q *TunnelQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	var acks []consensus.Ack
	err := q.call(ctx, gatewayproto.MethodComplete, cmd, &acks)
	return acks, err
}

// RobotID returns the id the cluster gave the robot: its --name, or the
// name its token is bound to. Valid after Connect.
func (q *TunnelQueue) RobotID() string { return q.Identity().RobotID }

// Identity returns what the cluster made of the robot: its id, tags and
// capacity, which its token may have fixed whatever it asked for. Valid
// after Connect; before, what the robot asks for.
func (q *TunnelQueue) Identity() tunnel.Identity {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.conn == nil {
		h := q.cfg.Hello
		return tunnel.Identity{RobotID: h.Name, Tags: slices.Clone(h.Tags), Capacity: h.Capacity}
	}
	return q.conn.Identity()
}
