package robot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/executor"
)

// workQueue is a faultyQueue that also carries completions with claims,
// as a TunnelQueue on a node that serves gatewayproto.MethodWork does.
type workQueue struct {
	*faultyQueue
	workErrs int                     // fail this many calls that carry completions
	carried  []consensus.CompleteCmd // completions that went with a claim
	maxes    []int                   // the slots each claim asked for
	// fill hands out up to cmd.Max jobs a claim, not one.
	fill bool
}

func (q *workQueue) ClaimCompleting(ctx context.Context, cmd consensus.ClaimCmd, done consensus.CompleteCmd) (WorkOutcome, error) {
	q.mu.Lock()
	if len(done.Items) > 0 && q.workErrs > 0 {
		q.workErrs--
		q.mu.Unlock()
		return WorkOutcome{}, errors.New("connection lost (outcome unknown)")
	}
	if len(done.Items) > 0 {
		q.carried = append(q.carried, done)
	}
	q.maxes = append(q.maxes, cmd.Max)
	q.mu.Unlock()
	var jobs []consensus.ClaimedJob
	for range max(cmd.Max, 1) {
		got, err := q.faultyQueue.Claim(ctx, cmd)
		if err != nil || len(got) == 0 {
			return WorkOutcome{Jobs: jobs, Acks: make([]consensus.Ack, len(done.Items))}, err
		}
		jobs = append(jobs, got...)
		if !q.fill {
			break
		}
	}
	return WorkOutcome{Jobs: jobs, Acks: make([]consensus.Ack, len(done.Items))}, nil
}

// reported returns the ids of the jobs completed, through claims and on
// their own, in one list.
func (q *workQueue) reported() (withClaims, alone []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, c := range q.carried {
		for _, it := range c.Items {
			withClaims = append(withClaims, it.JobID)
		}
	}
	for _, c := range q.completes {
		for _, it := range c.Items {
			alone = append(alone, it.JobID)
		}
	}
	return withClaims, alone
}

func runWorkRobot(t *testing.T, q *workQueue, capacity, jobs int) {
	t.Helper()
	r := New(Config{ID: "r1", Kind: consensus.RobotInternet, Capacity: capacity, ReportInterval: 100 * time.Millisecond,
		Engine: executor.NewEngine(executor.EngineOptions{WorkDir: t.TempDir()})}, q)
	runRobotUntil(t, r, 10*time.Second, "every job to be reported", func() bool {
		with, alone := q.reported()
		return len(with)+len(alone) >= jobs
	})
}

// A busy robot's completions go with the claims their freed slots cause,
// each job reported once; the last one, with no claim coming for it,
// goes on its own within its hold.
func TestCompletionsRideWithClaims(t *testing.T) {
	// Which claim carries a completion must not hang on the scheduler:
	// with the 2 ms floor, a completion that waited a little longer for
	// the claim its slot caused went on its own (once in CI, under the
	// race detector). A second's hold also makes the last job's report,
	// which no claim carries, wait that long.
	wasMin, wasMax := minHandoverHold, maxHandoverHold
	minHandoverHold, maxHandoverHold = time.Second, time.Second
	t.Cleanup(func() { minHandoverHold, maxHandoverHold = wasMin, wasMax })
	q := &workQueue{faultyQueue: &faultyQueue{claims: []consensus.ClaimedJob{
		claimed("J1", 1, "5ms"), claimed("J2", 2, "5ms"), claimed("J3", 3, "5ms"),
	}}}
	runWorkRobot(t, q, 1, 3)
	with, alone := q.reported()
	t.Logf("with claims %v, alone %v", with, alone)
	all := slices.Sorted(slices.Values(append(slices.Clone(with), alone...)))
	if !slices.Equal(all, []string{"J1", "J2", "J3"}) {
		t.Fatalf("jobs reported %v, want each of J1, J2, J3 once", all)
	}
	if !slices.Equal(with, []string{"J1", "J2"}) {
		t.Errorf("completions carried by claims %v, want J1 and J2 (the claims for J2 and J3 carry them)", with)
	}
}

// Completions whose claim call failed are not lost: the robot sends them
// again on their own, and retries the claim under the same request id.
func TestCompletionsOfAFailedClaimAreSentAgain(t *testing.T) {
	q := &workQueue{workErrs: 1, faultyQueue: &faultyQueue{claims: []consensus.ClaimedJob{
		claimed("J1", 1, "5ms"), claimed("J2", 2, "5ms"),
	}}}
	runWorkRobot(t, q, 1, 2)
	with, alone := q.reported()
	t.Logf("with claims %v, alone %v", with, alone)
	if !slices.Contains(alone, "J1") {
		t.Errorf("J1, whose claim call failed, was not sent again on its own (alone %v)", alone)
	}
	if !slices.Contains(append(with, alone...), "J2") {
		t.Errorf("J2 never reported")
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.reqIDs); n < 2 || q.reqIDs[n-1] == q.reqIDs[0] {
		t.Errorf("request ids %v: the claims for J1 and J2 must differ", q.reqIDs)
	}
}

// Runs shorter than a round trip share the next claim: a robot whose
// claim brought one job waits a moment for the runs it just started
// before claiming again, so its claims ask for both its slots rather
// than one each. (Without the wait every claim after the first asks for
// one: the loop claims again before the run it just started can end.)
func TestShortRunsShareTheNextClaim(t *testing.T) {
	was := claimCoalesce
	// The wait ends when the runs end; 2 ms was too short for a run to
	// end under the race detector on a loaded CI machine.
	claimCoalesce = 5 * time.Second
	t.Cleanup(func() { claimCoalesce = was })
	var jobs []consensus.ClaimedJob
	for i := range 6 {
		jobs = append(jobs, claimed(fmt.Sprintf("J%d", i), uint64(i+1), "0s"))
	}
	q := &workQueue{faultyQueue: &faultyQueue{claims: jobs}}
	runWorkRobot(t, q, 2, len(jobs))
	q.mu.Lock()
	defer q.mu.Unlock()
	t.Logf("claims asked for %v slots", q.maxes)
	if len(q.maxes) < 2 || !slices.Contains(q.maxes[1:], 2) {
		t.Fatalf("claims after the first asked for %v slots: none for both, though every run ended at once", q.maxes)
	}
}

// The runs of one claim that all end within the coalescing wait share
// the next claim, not only the first of them to end: a two-slot robot
// whose claim brought two short jobs asks next for both slots. (Waking
// at the first run's end, the robot claimed again while the second still
// ran, and half its claims asked for one slot.)
func TestRunsOfOneClaimShareTheNextClaim(t *testing.T) {
	was := claimCoalesce
	claimCoalesce = 5 * time.Second // runs under the race detector on a loaded machine are slow
	t.Cleanup(func() { claimCoalesce = was })
	q := &workQueue{fill: true, faultyQueue: &faultyQueue{claims: []consensus.ClaimedJob{
		claimed("J1", 1, "0s"), claimed("J2", 2, "200ms"), claimed("J3", 3, "0s"), claimed("J4", 4, "0s"),
	}}}
	runWorkRobot(t, q, 2, 4)
	q.mu.Lock()
	defer q.mu.Unlock()
	t.Logf("claims asked for %v slots", q.maxes)
	if len(q.maxes) < 2 || q.maxes[0] != 2 || q.maxes[1] != 2 {
		t.Fatalf("claims asked for %v slots; the second must ask for both, freed by J1 and J2 of the first", q.maxes)
	}
}
