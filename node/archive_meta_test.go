package node

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/api"
	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/internal/testutil"
)

// count runs a count query on the archive.
func count(t *testing.T, url, query string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestTheArchiveHoldsWorkflowVersionsSchedulesAndFires(t *testing.T) {
	dbURL := archivetest.Database(t)
	cfg := testConfig(t, "meta", "")
	cfg.ArchiveURL = dbURL
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	ctx := context.Background()
	res, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "ticker", WorkflowJSON: json.RawMessage(logWorkflow), TriggerType: "scheduled",
		Cron: "@every 1s", ExecutionMode: "lan",
	})
	if err != nil {
		t.Fatal(err)
	}
	// A second version of the same workflow.
	v2 := `{"name":"logger","description":"writes two lines","nodes":[{"id":"start","type":"start"},{"id":"a","type":"log","config":{"message":"one"}},{"id":"b","type":"log","config":{"message":"two"}}],"connections":[{"from":"start","to":"a"},{"from":"a","to":"b"}]}`
	if _, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "ticker", WorkflowJSON: json.RawMessage(v2), TriggerType: "none", ExecutionMode: "lan",
	}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, time.Minute, "versions, the schedule and its fires in the archive", func() (bool, error) {
		versions := count(t, dbURL, `SELECT count(*) FROM workflow_versions WHERE workflow_id = $1`, res.WorkflowID)
		schedules := count(t, dbURL, `SELECT count(*) FROM schedules WHERE id = $1 AND workflow_id = $2`, res.ScheduleID, res.WorkflowID)
		fires := count(t, dbURL, `SELECT count(*) FROM schedule_fires f JOIN jobs j ON j.id = f.job_id WHERE f.schedule_id = $1`, res.ScheduleID)
		// The LAN robot ran them: robot_stats has it from the attempts.
		robots := count(t, dbURL, `SELECT count(*) FROM robot_stats WHERE robot_id = 'meta' AND attempts >= 2`)
		return versions == 2 && schedules == 1 && fires >= 2 && robots == 1,
			fmt.Errorf("%d versions, %d schedules, %d fires with archived jobs, %d robots", versions, schedules, fires, robots)
	})
	if desc := count(t, dbURL, `SELECT count(*) FROM workflows WHERE id = $1 AND description = 'writes two lines'`, res.WorkflowID); desc != 1 {
		t.Fatalf("the workflow's row does not describe its latest version")
	}
}
