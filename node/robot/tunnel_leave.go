package robot

import (
	"context"
	"errors"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
)

// leaveNode reports whether a call's error says to leave its node for
// another: the node did not answer, or it answered that it has no leader
// — cut off from the rest, while another node the robot can reach may
// not be. Any other answer keeps the connection, as does a cancelled
// caller (the robot stopping).
//
// A streak of leaderless nodes leaves each node once; when every node
// had no leader (the cluster lost its quorum) the robot stays where it
// is for leaderlessRound before it tries them all again, rather than
// dial round the cluster every few seconds, each robot a handshake on
// every node. An answered call ends the streak.
func (q *TunnelQueue) leaveNode(ctx context.Context, conn *tunnel.Conn, err error) bool {
	var remote *tunnel.RemoteError
	if !errors.As(err, &remote) {
		return !errors.Is(ctx.Err(), context.Canceled)
	}
	if remote.Code != consensus.CodeNoLeader {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	leave := q.leaderless.leave(conn, len(q.addrs), time.Now())
	q.inStreak.Store(true)
	return leave
}

// leaderlessRound is how long a robot that found no node with a leader
// waits before it tries them all again: a partly healed cluster may
// have a leader by then that the robot's node still cannot reach.
const leaderlessRound = 30 * time.Second

// leaderlessStreak is a robot's nodes left in a row for having no
// leader.
type leaderlessStreak struct {
	left     int
	last     *tunnel.Conn // the connection last counted
	allSince time.Time    // when left reached every node
}

// leave reports whether to leave conn's node, which answered no_leader,
// when the robot knows nodes nodes. Calls on one connection count once:
// a claim and a heartbeat answered together leave one node.
func (s *leaderlessStreak) leave(conn *tunnel.Conn, nodes int, now time.Time) bool {
	if conn == s.last {
		return true
	}
	if s.left >= nodes {
		if now.Sub(s.allSince) < leaderlessRound {
			return false
		}
		s.left = 0
	}
	s.left++
	s.last = conn
	if s.left >= nodes {
		s.allSince = now
	}
	return true
}
