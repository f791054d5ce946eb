package node

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// vaultValue has characters JSON escapes, so that its raw, base64 and
// JSON-escaped forms all differ and each is looked for.
const vaultValue = `Pa55"w0rd\with<tags>&more-` + "z9Q"

func secretForms(v string) map[string]string {
	esc, _ := json.Marshal(v)
	var plain strings.Builder
	enc := json.NewEncoder(&plain)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
	noHTML := strings.TrimSpace(plain.String())
	return map[string]string{
		"raw":                       v,
		"base64":                    base64.StdEncoding.EncodeToString([]byte(v)),
		"base64url":                 base64.URLEncoding.EncodeToString([]byte(v)),
		"json":                      string(esc[1 : len(esc)-1]),
		"json without HTML escapes": noHTML[1 : len(noHTML)-1],
	}
}

// assertNoLeak fails if any form of v is in b, or, when b is JSON, in any
// string b holds once decoded (a value escaped twice over).
func assertNoLeak(t testing.TB, where string, b []byte, v string) {
	t.Helper()
	texts := []string{string(b)}
	var doc any
	if json.Unmarshal(b, &doc) == nil {
		texts = append(texts, jsonStrings(doc)...)
	}
	for form, s := range secretForms(v) {
		for _, text := range texts {
			if strings.Contains(text, s) {
				t.Errorf("the secret's %s form is in %s", form, where)
				break
			}
		}
	}
}

// jsonStrings returns every string (and object key) in a decoded document.
func jsonStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case map[string]any:
		var out []string
		for k, e := range x {
			out = append(append(out, k), jsonStrings(e)...)
		}
		return out
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, jsonStrings(e)...)
		}
		return out
	}
	return nil
}

// passwordServer records the X-Password header of each request.
type passwordServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newPasswordServer(t *testing.T) *passwordServer {
	p := &passwordServer{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Header.Get("X-Password"))
		p.mu.Unlock()
		// Echo it: the response lands in a variable, which must be
		// redacted too.
		fmt.Fprintf(w, `{"you_sent":%q}`, r.Header.Get("X-Password"))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *passwordServer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// secretWorkflow sends secret PW to url, logs it, keeps it in a variable.
func secretWorkflow(name, url string) string {
	return fmt.Sprintf(`{"name":%q,"nodes":[
 {"id":"start","type":"start"},
 {"id":"call","type":"http_request","config":{"url":%q,"headers":{"X-Password":"{{ secret(\"PW\") }}"},"output_var":"resp"}},
 {"id":"say","type":"log","config":{"message":"logged in with {{ secret(\"PW\") }}"}},
 {"id":"keep","type":"set_variable","config":{"name":"copy","value":"{{ secret(\"PW\") }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"call"},{"from":"call","to":"say"},{"from":"say","to":"keep"},{"from":"keep","to":"end"}]}`, name, url)
}

func createWorkflow(t *testing.T, c *client.Client, graph, mode string) wire.CreateWorkflowResponse {
	t.Helper()
	res, err := c.CreateWorkflow(context.Background(), api.CreateWorkflowRequest{
		WorkflowName: mustName(t, graph), WorkflowJSON: json.RawMessage(graph), ExecutionMode: mode,
	})
	if err != nil {
		t.Fatalf("create workflow: %v", err)
	}
	return res
}

func mustName(t *testing.T, graph string) string {
	var w struct{ Name string }
	if err := json.Unmarshal([]byte(graph), &w); err != nil {
		t.Fatal(err)
	}
	return w.Name
}

func getRaw(t *testing.T, boot *Node, url string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken(t, boot))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return []byte(b.String())
}

// grepDataDir fails if any file under dir holds a form of v.
func grepDataDir(t *testing.T, dir, v string) (files int) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		assertNoLeak(t, path, b, v)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestVaultSecretReachesLANAndInternetRobotsAndNeverLeaks sets a secret
// on a three-server cluster, runs a workflow that sends it to an HTTP
// server on a LAN robot and on an internet robot, and checks that the
// server received the value both times while no API answer, job log,
// checkpoint, result, raft.db or snapshot of any server holds it.
func TestVaultSecretReachesLANAndInternetRobotsAndNeverLeaks(t *testing.T) {
	n1 := startNode(t, testConfig(t, "v1", ""))
	n2 := startNode(t, joinConfig(t, "v2", n1))
	n3 := startNode(t, joinConfig(t, "v3", n2))
	nodes := []*Node{n1, n2, n3}
	ctx := context.Background()
	c3 := adminClient(t, n3, n1)
	srv := newPasswordServer(t)

	meta, err := c3.SetSecret(ctx, "PW", wire.PutSecretRequest{Value: vaultValue})
	if err != nil {
		t.Fatalf("set secret: %v", err)
	}
	if meta.Version != 1 || meta.Name != "PW" {
		t.Fatalf("set answered %+v", meta)
	}
	token := newToken(t, n2, "")
	startInternetRobot(t, []string{quicAddr(n2)}, token, "remote-1", 1)

	lan := createWorkflow(t, c3, secretWorkflow("lan-login", srv.URL), "lan")
	inet := createWorkflow(t, c3, secretWorkflow("inet-login", srv.URL), "internet")
	lanJob := waitJob(t, c3, lan.JobID, "succeeded", 30*time.Second)
	inetJob := waitJob(t, c3, inet.JobID, "succeeded", 30*time.Second)
	if inetJob.RobotID != "remote-1" || lanJob.RobotID == "remote-1" {
		t.Fatalf("lan job ran on %q, internet job on %q", lanJob.RobotID, inetJob.RobotID)
	}
	got := srv.received()
	if len(got) != 2 || got[0] != vaultValue || got[1] != vaultValue {
		t.Fatalf("the HTTP server received %q, want the secret twice", got)
	}

	var answers []byte
	for _, n := range nodes {
		base := "http://" + n.HTTPAddr()
		for _, path := range []string{
			"/api/v1/jobs/" + lan.JobID, "/api/v1/jobs/" + inet.JobID,
			"/api/v1/jobs/" + lan.JobID + "/logs", "/api/v1/jobs/" + inet.JobID + "/logs",
			"/api/v1/jobs?limit=100", "/api/v1/secrets", "/api/v1/secrets/PW",
			"/api/v1/workflows/" + lan.WorkflowID, "/api/v1/robots",
		} {
			b := getRaw(t, n1, base+path)
			assertNoLeak(t, n.cfg.Name+" GET "+path, b, vaultValue)
			answers = append(answers, b...)
		}
	}
	if !strings.Contains(string(answers), "logged in with ***") {
		t.Fatalf("the job logs do not show the redacted line")
	}
	t.Logf("job as the API shows it: %s", getRaw(t, n1, "http://"+n1.HTTPAddr()+"/api/v1/jobs/"+lan.JobID))
	t.Logf("its log: %s", getRaw(t, n1, "http://"+n1.HTTPAddr()+"/api/v1/jobs/"+lan.JobID+"/logs"))

	keys := map[string]bool{}
	for _, n := range nodes {
		if err := n.Store().Snapshot(); err != nil {
			t.Fatalf("snapshot %s: %v", n.cfg.Name, err)
		}
		files := grepDataDir(t, n.cfg.DataDir, vaultValue)
		info, err := os.Stat(filepath.Join(n.cfg.DataDir, consensus.VaultKeyFile))
		if err != nil {
			t.Fatalf("%s has no vault key: %v", n.cfg.Name, err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s: vault key mode %v, want 0600", n.cfg.Name, info.Mode().Perm())
		}
		ring, _ := n.Store().VaultKeys()
		keys[ring.Current] = true
		t.Logf("%s: searched %d files of its data dir", n.cfg.Name, files)
	}
	if len(keys) != 1 {
		t.Fatalf("servers hold different vault keys: %v", keys)
	}
}
