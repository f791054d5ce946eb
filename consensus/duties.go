package consensus

import (
	"context"
	"time"
)

// dutyInterval is how often the leader looks for expired leases and dead
// robots; it bounds how late a requeue can be.
const dutyInterval = 250 * time.Millisecond

// expireLeases requeues running jobs whose lease deadline has passed.
func (s RobotQueue) expireLeases(ctx context.Context, now time.Time) {
	var refs []LeaseRef
	s.fsm.read(func(st *state) {
		for _, j := range st.running {
			if j.Lease != nil && !now.Before(j.Lease.ExpiresAt) {
				refs = append(refs, LeaseRef{JobID: j.ID, Token: j.Lease.Token})
			}
		}
	})
	if len(refs) == 0 {
		return
	}
	n, err := apply[int](ctx, s.Store, cmdExpireLeases, ExpireCmd{Items: refs})
	if err != nil {
		s.log.Warn("expire leases", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("requeued jobs with expired leases", "count", n)
	}
}

// reapRobots requeues the jobs of robots gossip reports dead or gone,
// instead of waiting out their leases, once the robot must have fenced
// itself: gossip has said so for RobotRequeueDelay and the job's lease has
// had no renewal for as long (see FenceAfter for the arithmetic). A robot
// that heartbeats or claims through Raft is alive whatever a stale gossip
// view says, so its fresh leases stay. Robots gossip has never seen
// (internet robots) are left to their leases.
func (s RobotQueue) reapRobots(ctx context.Context, now time.Time) {
	if s.cfg.Liveness == nil {
		return
	}
	for robot, refs := range s.quietLeases(now) {
		state, since, ok := s.cfg.Liveness.MemberState(robot)
		if !ok || (state != "dead" && state != "left") || now.Sub(since) < RobotRequeueDelay {
			continue
		}
		cmd := RobotGoneCmd{RobotID: robot, Reason: state, Items: refs, Quiet: Duration(RobotRequeueDelay)}
		n, err := apply[int](ctx, s.Store, cmdRobotGone, cmd)
		if err != nil {
			s.log.Warn("requeue jobs of gone robot", "robot", robot, "err", err)
			continue
		}
		if n > 0 {
			s.log.Info("requeued jobs of gone robot", "robot", robot, "state", state, "count", n)
		}
	}
}

// quietLeases returns, per robot, the leases that have had no renewal
// for RobotRequeueDelay.
func (s RobotQueue) quietLeases(now time.Time) map[string][]LeaseRef {
	out := map[string][]LeaseRef{}
	s.fsm.read(func(st *state) {
		for _, j := range st.running {
			if j.Lease != nil && now.Sub(j.Lease.RenewedAt) >= RobotRequeueDelay {
				out[j.Lease.RobotID] = append(out[j.Lease.RobotID], LeaseRef{JobID: j.ID, Token: j.Lease.Token})
			}
		}
	})
	return out
}
