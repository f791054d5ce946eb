package consensus

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestAForwardedClaimAnswerCarriesNoGraphs: the leader's answer to a
// merged claim leaves the graphs out, and the node that serves the claim
// fills them in from its own replica. With them, a merged claim of many
// robots answered each job's graph again (thousands of jobs of a workflow
// with a large graph), past what a follower reads of a forwarded answer,
// and every claim of the entry failed with its jobs leased.
func TestAForwardedClaimAnswerCarriesNoGraphs(t *testing.T) {
	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	leader := c.waitLeader(5 * time.Second)
	follower := c.follower()
	big := json.RawMessage(fmt.Sprintf(`{"name":"big","pad":%q,"nodes":[{"id":"start","type":"start"}]}`, strings.Repeat("x", 32<<10)))
	var specs []JobSpec
	for i := range 20 {
		specs = append(specs, JobSpec{ID: fmt.Sprintf("j%d", i), ExecutionMode: ModeLAN})
	}
	if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "w", Graph: big, Jobs: specs}); err != nil {
		t.Fatal(err)
	}
	buf, err := encodeCommand(cmdClaimGroups, ClaimGroupsCmd{Claims: []ClaimCmd{
		{RobotID: "r1", RobotKind: RobotLAN, Max: 10, RequestID: "a"},
		{RobotID: "r2", RobotKind: RobotLAN, Max: 5, RequestID: "b"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := leader.ApplyRaw(ctx, buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) > len(big) {
		t.Errorf("the answer to a claim of 15 jobs is %d bytes, with a graph of %d: graphs travel in it", len(raw), len(big))
	}
	jobs, err := follower.Claim(ctx, ClaimCmd{RobotID: "r3", RobotKind: RobotLAN, Max: 5, RequestID: "c"})
	if err != nil || len(jobs) != 5 {
		t.Fatalf("claim through a follower: %d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if string(j.Graph) != string(big) {
			t.Errorf("job %s handed over with a graph of %d bytes, want its workflow's", j.Job.ID, len(j.Graph))
		}
	}
}
