package consensus

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// hookForwarder calls after with each command it forwarded once the
// leader has answered, before the answer reaches the forwarding store.
type hookForwarder struct {
	Forwarder
	after *atomic.Pointer[func(cmd []byte)]
}

func (h *hookForwarder) Apply(ctx context.Context, leader NodeInfo, cmd []byte) ([]byte, error) {
	raw, err := h.Forwarder.Apply(ctx, leader, cmd)
	if fn := h.after.Load(); err == nil && fn != nil {
		(*fn)(cmd)
	}
	return raw, err
}

// TestAClaimGivenUpInFlightHandsOverItsJobsIntact: a claim whose caller
// gives up while its entry is on its way is awaited, since the entry
// leases the jobs either way, and the jobs it returns are handed over as
// any others: not failed with a secret error because the caller's
// context ended before the follower that served the claim applied it.
func TestAClaimGivenUpInFlightHandsOverItsJobsIntact(t *testing.T) {
	var after atomic.Pointer[func([]byte)]
	c := startClusterWith(t, 3, func(cfg *Config) {
		cfg.Forwarder = &hookForwarder{Forwarder: cfg.Forwarder, after: &after}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	follower := c.follower()
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: graph("a"),
		Jobs: []JobSpec{{ID: "j1", ExecutionMode: ModeLAN}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := follower.WaitConsistent(ctx); err != nil {
		t.Fatal(err)
	}
	claimCtx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	hook := func(cmd []byte) {
		if commandType(cmd[0]) == cmdClaimGroups {
			giveUp() // the leader has leased the job; the caller stops waiting
		}
	}
	after.Store(&hook)
	jobs, err := follower.Claim(claimCtx, ClaimCmd{RobotID: "r1", RobotKind: RobotLAN, Max: 1, RequestID: "c1"})
	if err != nil {
		t.Fatalf("a claim awaited after its caller gave up: %v", err)
	}
	if len(jobs) != 1 || jobs[0].Job.ID != "j1" {
		t.Fatalf("claimed %+v, want j1", jobs)
	}
	if jobs[0].SecretError != "" {
		t.Errorf("the leased job comes with secret error %q (kind %s): its robot would fail it and spend an attempt",
			jobs[0].SecretError, jobs[0].SecretErrorKind)
	}
}
