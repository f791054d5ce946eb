package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/casare/casare/api"
)

// TestSecretNeverLeavesTheVaultOnRealProcesses sets a secret with the CLI
// (from stdin) on a cluster of three real processes, runs a workflow that
// sends it to an HTTP server, and greps every node's directory — raft.db,
// snapshots, the vault key, the process log — for the value, raw, base64
// and JSON-escaped.
func TestSecretNeverLeavesTheVaultOnRealProcesses(t *testing.T) {
	const value = `real-process-secret"<&>` + "-0417"
	var mu sync.Mutex
	var received []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received = append(received, r.Header.Get("X-Password"))
		mu.Unlock()
	}))
	defer srv.Close()

	c := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
	defer cancel()
	set := exec.CommandContext(ctx, casareBin, "secrets", "set", "PW", "--server", "http://"+c.seed,
		"--token-file", c.byName("n1").tokenFile)
	set.Stdin = strings.NewReader(value)
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("casare secrets set: %v\n%s", err, out)
	}
	graph := fmt.Sprintf(`{"name":"real-login","nodes":[{"id":"start","type":"start"},
 {"id":"call","type":"http_request","config":{"url":%q,"headers":{"X-Password":"{{ secret(\"PW\") }}"}}},
 {"id":"say","type":"log","config":{"message":"password {{ secret(\"PW\") }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"call"},{"from":"call","to":"say"},{"from":"say","to":"end"}]}`, srv.URL)
	leader := c.leader()
	res, err := leader.client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "real-login", WorkflowJSON: json.RawMessage(graph), ExecutionMode: "lan",
	})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, settleTimeout, "the job to succeed", func() (bool, error) {
		j, err := leader.client.Job(ctx, res.JobID)
		if err != nil {
			return false, err
		}
		return j.State == "succeeded", fmt.Errorf("job is %s: %s", j.State, j.Error)
	})
	mu.Lock()
	if len(received) != 1 || received[0] != value {
		t.Fatalf("the server received %q", received)
	}
	mu.Unlock()
	c.waitReplicated()
	for _, n := range c.all() {
		n.killQuietly() // flush nothing on purpose: what is on disk is what a thief gets
	}
	esc, _ := json.Marshal(value)
	forms := []string{value, base64.StdEncoding.EncodeToString([]byte(value)), string(esc[1 : len(esc)-1]),
		strings.NewReplacer(`"`, `\"`).Replace(value)}
	for _, n := range c.all() {
		files := 0
		err := filepath.WalkDir(n.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files++
			for _, f := range forms {
				if strings.Contains(string(b), f) {
					t.Errorf("%s holds the secret (%q)", path, f)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: searched %d files", n.name, files)
	}
}
