//go:build unix

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
// sends it and a parameter the workflow declares secret to an HTTP
// server, and greps every node's directory — raft.db, snapshots, the
// vault key, the process log — for both values, raw, base64 and
// JSON-escaped.
func TestSecretNeverLeavesTheVaultOnRealProcesses(t *testing.T) {
	const value = `real-process-secret"<&>` + "-0417"
	const param = `real-process-param"<&>` + "-8812"
	var mu sync.Mutex
	var received, receivedParams []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		received = append(received, r.Header.Get("X-Password"))
		receivedParams = append(receivedParams, r.Header.Get("X-Param"))
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
	graph := fmt.Sprintf(`{"name":"real-login","secret_variables":["login"],"nodes":[{"id":"start","type":"start"},
 {"id":"call","type":"http_request","config":{"url":%q,"headers":{"X-Password":"{{ secret(\"PW\") }}","X-Param":"{{ login }}"}}},
 {"id":"say","type":"log","config":{"message":"password {{ secret(\"PW\") }} login {{ login }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"call"},{"from":"call","to":"say"},{"from":"say","to":"end"}]}`, srv.URL)
	leader := c.leader()
	res, err := leader.client.CreateWorkflow(ctx, api.CreateWorkflowRequest{
		WorkflowName: "real-login", WorkflowJSON: json.RawMessage(graph), ExecutionMode: "lan",
		Params: mustJSON(t, map[string]string{"login": param}),
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
	if len(received) != 1 || received[0] != value || receivedParams[0] != param {
		t.Fatalf("the server received %q and %q", received, receivedParams)
	}
	mu.Unlock()
	c.waitReplicated()
	for _, n := range c.all() {
		n.killQuietly() // flush nothing on purpose: what is on disk is what a thief gets
	}
	var forms []string
	for _, v := range []string{value, param} {
		esc, _ := json.Marshal(v)
		forms = append(forms, v, base64.StdEncoding.EncodeToString([]byte(v)), string(esc[1:len(esc)-1]),
			strings.NewReplacer(`"`, `\"`).Replace(v))
	}
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

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
