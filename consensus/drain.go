package consensus

import (
	"cmp"
	"context"
	"slices"
)

// An admin drains a robot before maintenance: it finishes what it runs
// and claims nothing more. Recalling its jobs goes further: they return
// to the queue at once, from their last checkpoint, without spending an
// attempt (the robot did not fail them), and the robot's next heartbeat
// is told to stop them.

// DrainRobotCmd drains a robot (Drained) or lets it claim again.
type DrainRobotCmd struct {
	RobotID string `json:"robot_id"`
	Drained bool   `json:"drained"`
}

func (s queueApply) drainRobot(_ applyContext, cmd *DrainRobotCmd) (struct{}, error) {
	if cmd.RobotID == "" {
		return struct{}{}, errorf(CodeInvalid, "robot id is empty")
	}
	if s.drained[cmd.RobotID] == cmd.Drained {
		return struct{}{}, nil // a retry, or nothing to change
	}
	if cmd.Drained {
		s.drained[cmd.RobotID] = true
	} else {
		delete(s.drained, cmd.RobotID)
	}
	s.note(Change{Kind: ChangeDrain, RobotID: cmd.RobotID, Drained: cmd.Drained})
	return struct{}{}, nil
}

// RecallJobsCmd takes every job a robot runs back into the queue and
// drains the robot, so that the jobs go to other robots.
type RecallJobsCmd struct {
	RobotID string `json:"robot_id"`
	Reason  string `json:"reason"`
}

func (s queueApply) recallJobs(c applyContext, cmd *RecallJobsCmd) ([]string, error) {
	if cmd.RobotID == "" {
		return nil, errorf(CodeInvalid, "robot id is empty")
	}
	if _, err := s.drainRobot(c, &DrainRobotCmd{RobotID: cmd.RobotID, Drained: true}); err != nil {
		return nil, err
	}
	var held []*Job
	for _, j := range s.running {
		if j.Lease != nil && j.Lease.RobotID == cmd.RobotID {
			held = append(held, j)
		}
	}
	// Map order is random; requeue in submission order so every replica
	// assigns the same queue positions.
	slices.SortFunc(held, func(a, b *Job) int { return cmp.Compare(a.Seq, b.Seq) })
	ids := make([]string, 0, len(held))
	for _, j := range held {
		j = s.mutableJob(j)
		s.finishAttempt(j, "handed_back", cmp.Or(cmd.Reason, "recalled by an admin"), c)
		j.Attempt--
		j.AvoidRobot, j.Lease, j.NotBefore = cmd.RobotID, nil, c.now
		s.setJobState(j, JobQueued, c)
		ids = append(ids, j.ID)
	}
	return ids, nil
}

// DrainRobot drains a robot (drained) or lets it claim again. It goes
// through the leader like every write and is idempotent: draining a
// drained robot changes nothing. A robot the cluster has never seen may
// be drained ahead of its arrival.
func (s RobotQueue) DrainRobot(ctx context.Context, robotID string, drained bool) error {
	_, err := apply[struct{}](ctx, s.Store, cmdDrainRobot, DrainRobotCmd{RobotID: robotID, Drained: drained})
	return err
}

// RecallJobs returns every job the robot runs to the queue and drains
// the robot; it returns the ids of the jobs it took back. Idempotent: a
// retry finds nothing left to take.
func (s RobotQueue) RecallJobs(ctx context.Context, robotID, reason string) ([]string, error) {
	return apply[[]string](ctx, s.Store, cmdRecallJobs, RecallJobsCmd{RobotID: robotID, Reason: reason})
}

// Drained lists the drained robots, sorted.
func (s RobotQueue) Drained() []string {
	var out []string
	s.fsm.read(func(st *state) {
		for id := range st.drained {
			out = append(out, id)
		}
	})
	slices.Sort(out)
	return out
}
