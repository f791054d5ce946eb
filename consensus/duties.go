package consensus

import (
	"context"
	"slices"
	"time"
)

// dutyInterval is how often the leader looks for expired leases and dead
// robots; it bounds how late a requeue can be.
const dutyInterval = 250 * time.Millisecond

// expireLeases requeues running jobs whose lease deadline has passed.
func (s *Store) expireLeases(ctx context.Context, now time.Time) {
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
	n, err := apply[int](ctx, s, cmdExpireLeases, ExpireCmd{Items: refs})
	if err != nil {
		s.log.Warn("expire leases", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("requeued jobs with expired leases", "count", n)
	}
}

// reapRobots requeues at once the jobs of robots gossip reports dead or
// gone, instead of waiting out their leases. Robots gossip has never seen
// (internet robots) are left to their leases.
func (s *Store) reapRobots(ctx context.Context, _ time.Time) {
	if s.cfg.Liveness == nil {
		return
	}
	var robots []string
	s.fsm.read(func(st *state) {
		for _, j := range st.running {
			if j.Lease != nil && !slices.Contains(robots, j.Lease.RobotID) {
				robots = append(robots, j.Lease.RobotID)
			}
		}
	})
	for _, robot := range robots {
		state, _, ok := s.cfg.Liveness.MemberState(robot)
		if !ok || (state != "dead" && state != "left") {
			continue
		}
		n, err := s.RobotGone(ctx, robot, state)
		if err != nil {
			s.log.Warn("requeue jobs of gone robot", "robot", robot, "err", err)
			continue
		}
		if n > 0 {
			s.log.Info("requeued jobs of gone robot", "robot", robot, "state", state, "count", n)
		}
	}
}
