package node

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// An admin drains a node's robot: a job queued meanwhile stays queued and
// runs once the robot is undrained. Handing back a running job stops its
// run on the robot (the work after the node it was in never happens),
// returns it to the queue with no attempt spent, and it succeeds after
// the undrain.
func TestDrainAndHandBackWithARealRobot(t *testing.T) {
	cfg := testConfig(t, "solo", "")
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	ctx := context.Background()
	marker := cfg.WorkDir + "/after-delay.txt"
	wf := fmt.Sprintf(`{"name":"long","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"wait","type":"delay","config":{"duration":"4s"}},
	 {"id":"mark","type":"file_write","config":{"path":%q,"content":"ran"}},
	 {"id":"end","type":"end"}],
	 "connections":[{"from":"start","to":"wait"},{"from":"wait","to":"mark"},{"from":"mark","to":"end"}]}`, marker)
	created, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{WorkflowName: "long", WorkflowJSON: json.RawMessage(wf), TriggerType: "none"})
	if err != nil {
		t.Fatal(err)
	}

	if r, err := c.DrainRobot(ctx, "solo", true); err != nil || !r.Drained {
		t.Fatalf("drain: %+v, %v", r, err)
	}
	queued, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: created.WorkflowID})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the property under test: nothing claims it meanwhile
	if j, _ := c.Job(ctx, queued.ID); j.State != "queued" {
		t.Fatalf("a job for a drained robot is %s, want queued", j.State)
	}
	if _, err := c.DrainRobot(ctx, "solo", false); err != nil {
		t.Fatal(err)
	}
	waitJob(t, c, queued.ID, "running", 10*time.Second)

	handed, err := c.HandBackRobot(ctx, "solo")
	if err != nil || len(handed.HandedBack) != 1 || handed.HandedBack[0] != queued.ID || !handed.Robot.Drained {
		t.Fatalf("hand back: %+v, %v", handed, err)
	}
	j := waitJob(t, c, queued.ID, "queued", time.Second)
	if j.Attempt != 0 {
		t.Errorf("handed-back job at attempt %d, want 0: a hand-back spends no attempt", j.Attempt)
	}
	// Had the run not stopped, the marker would appear when the 4 s delay
	// ends.
	time.Sleep(5 * time.Second)
	if _, err := os.Stat(marker); !os.IsNotExist(err) {
		t.Fatalf("the handed-back run went on past its delay: %v", err)
	}
	if _, err := c.DrainRobot(ctx, "solo", false); err != nil {
		t.Fatal(err)
	}
	done := waitJob(t, c, queued.ID, "succeeded", 20*time.Second)
	if done.Attempt != 1 {
		t.Errorf("job succeeded at attempt %d, want 1", done.Attempt)
	}
}
