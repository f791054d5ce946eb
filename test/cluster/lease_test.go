//go:build unix

package cluster

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/node/peer"
)

// TestLeaseExpiryWithoutGossipDeath leases a job to a robot that gossip
// has never seen and that never heartbeats: the test itself, claiming
// through a server's robot endpoints as a robot-only node's robot does.
// No gossip event can requeue the job; only its lease can. Once a real
// robot has taken the job over, the silent robot wakes up: its
// heartbeat and its completion carry a stale fencing token and must
// change nothing.
func TestLeaseExpiryWithoutGossipDeath(t *testing.T) {
	const visibility = 2 * time.Second
	const ghost = "ghost-robot"
	ctx := t.Context()
	c := newCluster(t)
	c.bootstrap("n1", "--robot=false")
	c.join("n2", "--robot=false")
	c.join("n3", "--robot=false")
	c.waitServers(3)
	r := submitResumable(t, c, visibility)

	// Claim through a follower, so the claim is forwarded like any
	// robot-only node's.
	claimed, err := peer.New("http://"+c.follower().http).RobotClaim(ctx, consensus.ClaimCmd{
		RobotID: ghost, RobotKind: consensus.RobotLAN, Max: 1, RequestID: "ghost-claim",
	})
	if err != nil {
		t.Fatalf("claim as %s: %v", ghost, err)
	}
	if len(claimed) != 1 || claimed[0].Job.ID != r.jobID || claimed[0].Job.Lease == nil {
		t.Fatalf("claim as %s returned %+v, want job %s with a lease", ghost, claimed, r.jobID)
	}
	lease := *claimed[0].Job.Lease
	claimedAt := time.Now()

	var lost api.Job
	waitFor(t, settleTimeout, "the silent robot's lease to expire", func() (bool, error) {
		if lost, err = r.job(); err != nil {
			return false, err
		}
		return len(lost.Attempts) > 0 && !lost.Attempts[0].FinishedAt.IsZero(), fmt.Errorf("job: %s", describeJob(lost))
	})
	first := lost.Attempts[0]
	t.Logf("attempt 1 by %s ended %v after the claim, %v past its lease deadline: %q",
		ghost, time.Since(claimedAt), first.FinishedAt.Sub(lease.ExpiresAt), first.Error)
	if !strings.Contains(first.Error, "lease expired") {
		t.Errorf("attempt 1 should have ended by lease expiry, not: %q", first.Error)
	}
	if first.FinishedAt.Before(lease.ExpiresAt) {
		t.Errorf("attempt 1 ended at %v, before its lease ran out at %v", first.FinishedAt, lease.ExpiresAt)
	}

	// A robot joins and takes the job over.
	rescuer := c.join("n4", "--log-level", "debug")
	waitFor(t, settleTimeout, "n4 to run the job", func() (bool, error) {
		j, err := r.job()
		if err != nil {
			return false, err
		}
		return j.State == "running" && j.RobotID == rescuer.name, fmt.Errorf("job: %s", describeJob(j))
	})

	// The silent robot wakes up while n4 runs the job.
	progress, err := peer.New("http://"+c.follower().http).RobotProgress(ctx, consensus.ProgressCmd{
		RobotID: ghost, Items: []consensus.Progress{{JobID: r.jobID, Token: lease.Token}},
	})
	if err != nil || len(progress) != 1 || progress[0].OK || !progress[0].Stop {
		t.Errorf("stale heartbeat of %s: %+v, %v; want a refusal that says stop", ghost, progress, err)
	}
	forged, _ := json.Marshal(map[string]string{"robot_id": ghost})
	completion, err := peer.New("http://"+c.follower().http).RobotComplete(ctx, consensus.CompleteCmd{
		RobotID: ghost, Items: []consensus.Completion{{JobID: r.jobID, Token: lease.Token, Succeeded: true, Result: forged}},
	})
	if err != nil || len(completion) != 1 || completion[0].OK {
		t.Errorf("stale completion of %s: %+v, %v; want it refused", ghost, completion, err)
	}
	t.Logf("stale reports of %s answered: heartbeat %+v, completion %+v", ghost, progress, completion)

	j := r.waitSucceeded(t)
	var result struct {
		RobotID string `json:"robot_id"`
	}
	switch {
	case json.Unmarshal(j.Result, &result) != nil || result.RobotID != rescuer.name:
		t.Errorf("job result %s, want the run of %s", j.Result, rescuer.name)
	case len(j.Attempts) != 2 || j.Attempts[0].RobotID != ghost || j.Attempts[1].RobotID != rescuer.name ||
		j.Attempts[1].Outcome != "succeeded":
		t.Errorf("attempts should be the lost one of %s and a successful one of %s: %s", ghost, rescuer.name, describeJob(j))
	}
	// The silent robot never ran anything: n4 ran both steps, in attempt
	// 1 still, since losing a robot spends no attempt.
	want := map[string]int{rescuer.name + " attempt 1": 1}
	if got := readLineCounts(t, r.marker1); !maps.Equal(got, want) {
		t.Errorf("step1 lines %v, want %v", got, want)
	}
	if got := readLineCounts(t, r.marker2); !maps.Equal(got, want) {
		t.Errorf("step2 lines %v, want %v", got, want)
	}
}
