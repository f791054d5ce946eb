package node

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/archive/archivetest"
	"github.com/casare/casare/internal/testutil"
)

// TestTheArchiveHoldsNoSecret runs jobs that use a vault secret and a
// secret parameter, on a schedule too, on a node that archives into the
// real Postgres, and reads back every row of every archive table: no
// form of either value is there, and the parameter shows as ***.
func TestTheArchiveHoldsNoSecret(t *testing.T) {
	url := archivetest.Database(t)
	cfg := testConfig(t, "arch", "")
	cfg.ArchiveURL = url
	n := startNode(t, cfg)
	c := adminClient(t, n, n)
	ctx := context.Background()
	srv := newPasswordServer(t)
	if _, err := c.SetSecret(ctx, "PW", wire.PutSecretRequest{Value: vaultValue}); err != nil {
		t.Fatal(err)
	}
	graph := fmt.Sprintf(`{"name":"archived-login","secret_variables":["password"],"nodes":[
 {"id":"start","type":"start"},
 {"id":"call","type":"http_request","config":{"url":%q,"headers":{"X-Password":"{{ secret(\"PW\") }}{{ password }}"},"output_var":"resp"}},
 {"id":"say","type":"log","config":{"message":"vault {{ secret(\"PW\") }} param {{ password }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"call"},{"from":"call","to":"say"},{"from":"say","to":"end"}]}`, srv.URL)
	params, _ := json.Marshal(map[string]string{"password": paramValue})
	wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "archived-login", WorkflowJSON: json.RawMessage(graph), ExecutionMode: "lan", Params: params,
	})
	if err != nil {
		t.Fatal(err)
	}
	sc, fired := triggeredSchedule(t, c, wf.WorkflowID, params)
	for _, id := range []string{wf.JobID, fired} {
		waitJob(t, c, id, "succeeded", 30*time.Second)
	}
	if got := srv.received(); len(got) != 2 || got[0] != vaultValue+paramValue {
		t.Fatalf("the server received %q", got)
	}
	testutil.Eventually(t, time.Minute, "both jobs to be archived", func() (bool, error) {
		rows := archiveRows(t, url)
		_, a := rows[wf.JobID]
		_, b := rows[fired]
		return a && b, fmt.Errorf("%d jobs archived", len(rows))
	})

	rows := archiveDump(t, url)
	for _, row := range rows {
		assertNoLeak(t, "the archive row "+row, []byte(row), vaultValue)
		assertNoLeak(t, "the archive row "+row, []byte(row), paramValue)
	}
	dump := strings.Join(rows, "\n")
	for _, want := range []string{`"password": "***"`, "vault *** param ***", wf.JobID, sc} {
		if !strings.Contains(dump, want) {
			t.Errorf("the archive lacks %q: the dump is not what the test means to search", want)
		}
	}
	if strings.Contains(dump, "sealed_params") {
		t.Error("the archive keeps sealed parameters")
	}
}

// archiveDump returns every row of every table of the archive, each as
// a JSON object (with JSON columns nested, not quoted).
func archiveDump(t *testing.T, url string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, table := range tables {
		rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT to_jsonb(t)::text FROM %s t`, pgx.Identifier{table}.Sanitize()))
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, lines...)
	}
	return out
}
