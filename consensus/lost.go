package consensus

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// LeaseRef names one lease.
type LeaseRef struct {
	JobID string `json:"job_id"`
	Token uint64 `json:"token"`
}

// ExpireCmd requeues jobs whose leases the leader saw expire. The FSM
// checks each against the stamped time, so a heartbeat that raced the
// leader's scan wins.
type ExpireCmd struct {
	Items []LeaseRef `json:"items"`
}

func (s queueApply) expireLeases(c applyContext, cmd *ExpireCmd) (int, error) {
	n := 0
	for _, ref := range cmd.Items {
		j, _ := s.leased(ref.JobID, "", ref.Token)
		if j == nil || c.now.Before(j.Lease.ExpiresAt) {
			continue
		}
		s.requeueLost(j, "lease expired on robot "+j.Lease.RobotID, c)
		n++
	}
	return n, nil
}

// RobotGoneCmd requeues a robot's jobs at once: gossip or its tunnel
// says it is dead. With Items, only those leases move, and only if each
// has had no renewal for Quiet by the stamped time, so a heartbeat that
// raced the leader's scan wins (the robot is alive after all). Without
// Items, every job the robot holds moves.
type RobotGoneCmd struct {
	RobotID string     `json:"robot_id"`
	Reason  string     `json:"reason"`
	Items   []LeaseRef `json:"items,omitempty"`
	Quiet   Duration   `json:"quiet,omitempty"`
}

func (s queueApply) robotGone(c applyContext, cmd *RobotGoneCmd) (int, error) {
	var held []*Job
	if len(cmd.Items) > 0 {
		for _, ref := range cmd.Items {
			j, _ := s.leased(ref.JobID, cmd.RobotID, ref.Token)
			if j != nil && c.now.Sub(j.Lease.RenewedAt) >= time.Duration(cmd.Quiet) {
				held = append(held, j)
			}
		}
	} else {
		for _, j := range s.running {
			if j.Lease != nil && j.Lease.RobotID == cmd.RobotID {
				held = append(held, j)
			}
		}
	}
	// Map order is random; requeue in submission order so every replica
	// assigns the same queue positions.
	slices.SortFunc(held, func(a, b *Job) int { return cmp.Compare(a.Seq, b.Seq) })
	for _, j := range held {
		s.requeueLost(j, "robot "+cmd.RobotID+" "+cmd.Reason, c)
	}
	return len(held), nil
}

// requeueLost queues a job again because its robot was declared dead or
// lost its lease: the robot failed, not the job, so the attempt is not
// spent. The loss is counted instead, and a job that has lost its robot
// more than maxRobotLosses times is dead: it may be what kills them.
func (s queueApply) requeueLost(j *Job, reason string, c applyContext) {
	j = s.mutableJob(j)
	j.RobotLosses++
	s.finishAttempt(j, "robot_lost", reason, c)
	if j.RobotLosses > maxRobotLosses {
		j.Error = fmt.Sprintf("%s; the job has lost its robot %d times", reason, j.RobotLosses)
		s.setJobState(j, JobDead, c)
		return
	}
	j.Attempt--
	j.Error = reason
	j.AvoidRobot, j.Lease, j.NotBefore = j.RobotID, nil, c.now
	s.setJobState(j, JobQueued, c)
}
