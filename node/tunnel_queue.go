package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
)

// TunnelQueue is an internet robot's Queue: calls go over one QUIC
// connection to a node, which relays them to the leader. When that node
// dies the queue dials the next address — from the list it was given or
// learned from the cluster — and carries on; the robot's leases survive
// the switch as long as it is back before they expire.
type TunnelQueue struct {
	cfg tunnel.ClientConfig
	log *slog.Logger

	mu    sync.Mutex
	addrs []string
	next  int
	conn  *tunnel.Conn
}

// claimWait is how long a claim call may wait at the node for work.
const claimWait = 20 * time.Second

// NewTunnelQueue returns a queue that dials addrs in turn.
func NewTunnelQueue(addrs []string, cfg tunnel.ClientConfig) *TunnelQueue {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &TunnelQueue{cfg: cfg, log: log, addrs: slices.Clone(addrs)}
}

// Connect dials until one address answers or ctx ends. A refused token is
// final and returned at once.
func (q *TunnelQueue) Connect(ctx context.Context) error {
	_, err := q.connection(ctx)
	return err
}

// IsAuthError reports whether err means the cluster refused the robot's
// token, which no retry can fix.
func IsAuthError(err error) bool {
	return errors.Is(err, tunnel.ErrAuthRefused) || errors.Is(err, tunnel.ErrServerProof)
}

func (q *TunnelQueue) connection(ctx context.Context) (*tunnel.Conn, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.conn != nil {
		select {
		case <-q.conn.Done():
			q.conn = nil
		default:
			return q.conn, nil
		}
	}
	var lastErr error
	for attempt := 0; ctx.Err() == nil; attempt++ {
		addr := q.addrs[q.next%len(q.addrs)]
		q.next++
		conn, err := tunnel.Dial(ctx, addr, q.cfg)
		if err == nil {
			q.log.Info("connected to the cluster", "node", addr)
			q.conn = conn
			q.learnAddrs(ctx, conn)
			return conn, nil
		}
		if IsAuthError(err) {
			return nil, fmt.Errorf("connect to %s: %w", addr, err)
		}
		lastErr = err
		q.log.Warn("connect failed; trying the next node", "node", addr, "err", err)
		if attempt%len(q.addrs) == len(q.addrs)-1 {
			sleep(ctx, min(time.Duration(attempt+1)*200*time.Millisecond, 3*time.Second))
		}
	}
	return nil, fmt.Errorf("connect to the cluster: %w (last error: %v)", ctx.Err(), lastErr)
}

// learnAddrs adds the cluster's QUIC addresses to the list, so the robot
// can reach nodes it was not told about. Caller holds q.mu.
func (q *TunnelQueue) learnAddrs(ctx context.Context, conn *tunnel.Conn) {
	var info clusterInfo
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := conn.Call(callCtx, methodCluster, struct{}{}, &info); err != nil {
		q.log.Debug("learn cluster addresses", "err", err)
		return
	}
	for _, a := range info.QUICAddrs {
		if !slices.Contains(q.addrs, a) {
			q.addrs = append(q.addrs, a)
		}
	}
}

// call makes one call, dropping a broken connection so the next call
// dials again.
func (q *TunnelQueue) call(ctx context.Context, method string, req, resp any) error {
	conn, err := q.connection(ctx)
	if err != nil {
		return err
	}
	err = conn.Call(ctx, method, req, resp)
	var remote *tunnel.RemoteError
	if err != nil && !errors.As(err, &remote) && ctx.Err() == nil {
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
	req := claimRequest{Max: cmd.Max, RequestID: cmd.RequestID, WaitMS: int(claimWait / time.Millisecond)}
	err := q.call(ctx, methodClaim, req, &jobs)
	return jobs, err
}

// Progress sends a batch of heartbeats.
func (q *TunnelQueue) Progress(ctx context.Context, cmd consensus.ProgressCmd) ([]consensus.Ack, error) {
	var acks []consensus.Ack
	err := q.call(ctx, methodProgress, cmd, &acks)
	return acks, err
}

// Complete sends a batch of completions.
func (q *TunnelQueue) Complete(ctx context.Context, cmd consensus.CompleteCmd) ([]consensus.Ack, error) {
	var acks []consensus.Ack
	err := q.call(ctx, methodComplete, cmd, &acks)
	return acks, err
}

// RobotID returns the id the cluster gave the robot: its --name, or the
// name its token is bound to. Valid after Connect.
func (q *TunnelQueue) RobotID() string {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.conn == nil {
		return q.cfg.Hello.Name
	}
	return q.conn.Identity().RobotID
}
