package node

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
)

// A job whose expression asks for more memory than an evaluation may use
// fails at once as a business failure naming the limit: its robot
// survives, and the job is not handed to another robot to try again.
func TestJobOverAnExpressionLimitFailsWithoutRetry(t *testing.T) {
	n := startNode(t, testConfig(t, "solo", ""))
	c := adminClient(t, n, n)
	const hostile = `{"name":"hostile","nodes":[
	 {"id":"start","type":"start"},
	 {"id":"grow","type":"set_variable","config":{"name":"s","value":"{{ repeat(repeat(\"a\", 999999), 999999) }}"}}],
	 "connections":[{"from":"start","to":"grow"}]}`
	attempts := 3
	res, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: "hostile", WorkflowJSON: json.RawMessage(hostile), ExecutionMode: "lan", MaxAttempts: &attempts,
	})
	if err != nil {
		t.Fatal(err)
	}
	job := waitJob(t, c, res.JobID, "failed", 20*time.Second)
	if job.FailureKind != "business" || !strings.Contains(job.Error, "expression memory limit exceeded") || len(job.Attempts) != 1 {
		t.Fatalf("job: kind %q, error %q, %d attempts; want one business failure naming the limit", job.FailureKind, job.Error, len(job.Attempts))
	}
	if ready, err := c.Ready(context.Background()); !ready {
		t.Fatalf("node not ready after the job: %v", err)
	}
}
