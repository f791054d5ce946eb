package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casare/casare/api/wire"
)

// tokenServer is an OAuth token endpoint that rotates refresh tokens:
// each refresh token works once and the answer carries the next one.
type tokenServer struct {
	*httptest.Server
	mu      sync.Mutex
	valid   string // the refresh token it accepts now
	next    int
	clients []string // client secrets it was sent
}

func newTokenServer(t *testing.T, first string) *tokenServer {
	ts := &tokenServer{valid: first}
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		_, secret, _ := r.BasicAuth()
		if secret == "" {
			secret = r.Form.Get("client_secret")
		}
		ts.mu.Lock()
		defer ts.mu.Unlock()
		ts.clients = append(ts.clients, secret)
		if r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != ts.valid {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		ts.next++
		ts.valid = fmt.Sprintf("rotated-refresh-token-%d-xyz", ts.next)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("access-token-%d-qwe", ts.next), "token_type": "Bearer",
			"refresh_token": ts.valid, "expires_in": 3600,
		})
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestOAuthRefreshTokenFromTheVaultIsStoredBack runs an OAuth refresh whose
// client secret and refresh token come from the vault and whose new
// refresh token is stored back (store_refresh_token_as), twice: the
// second run uses the token the first stored, and no API answer (job,
// variables, log) shows a refresh token, an access token or the client
// secret, nor does any file of the data dir show a token.
func TestOAuthRefreshTokenFromTheVaultIsStoredBack(t *testing.T) {
	n := startNode(t, testConfig(t, "oa", ""))
	c := adminClient(t, n, n)
	ctx := context.Background()
	ts := newTokenServer(t, "first-refresh-token-abc")
	for name, v := range map[string]string{"CRM_CLIENT": "client-secret-value-123", "CRM_REFRESH": "first-refresh-token-abc"} {
		if _, err := c.SetSecret(ctx, name, wire.PutSecretRequest{Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	graph := fmt.Sprintf(`{"name":"crm-sync","nodes":[
 {"id":"start","type":"start"},
 {"id":"refresh","type":"oauth2_refresh","config":{"token_url":%q,"client_id":"casare",
   "client_secret":"{{ secret(\"CRM_CLIENT\") }}","refresh_token":"{{ secret(\"CRM_REFRESH\") }}",
   "store_refresh_token_as":"CRM_REFRESH","output_var":"tok"}},
 {"id":"say","type":"log","config":{"message":"new refresh token {{ tok.refresh_token }}, access token {{ tok.access_token }}"}},
 {"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"refresh"},{"from":"refresh","to":"say"},{"from":"say","to":"end"}]}`, ts.URL)
	wf := createWorkflow(t, c, graph, "lan")
	waitJob(t, c, wf.JobID, "succeeded", 30*time.Second)
	meta, err := c.Secret(ctx, "CRM_REFRESH")
	if err != nil || meta.Version != 2 {
		t.Fatalf("CRM_REFRESH after the first run: %+v %v, want version 2", meta, err)
	}
	second, err := c.SubmitJob(ctx, wire.JobRequest{WorkflowID: wf.WorkflowID})
	if err != nil {
		t.Fatal(err)
	}
	// The token server accepts each refresh token once: the second run
	// succeeds only with the token the first one stored.
	waitJob(t, c, second.ID, "succeeded", 30*time.Second)
	ts.mu.Lock()
	for _, s := range ts.clients {
		if s != "client-secret-value-123" {
			t.Errorf("token server got client secret %q", s)
		}
	}
	ts.mu.Unlock()
	for _, path := range []string{"/api/v1/jobs/" + wf.JobID, "/api/v1/jobs/" + second.ID, "/api/v1/jobs/" + second.ID + "/logs", "/api/v1/secrets"} {
		b := getRaw(t, n, "http://"+n.HTTPAddr()+path)
		for _, v := range []string{"rotated-refresh-token-1-xyz", "rotated-refresh-token-2-xyz", "first-refresh-token-abc", "client-secret-value-123",
			"access-token-1-qwe", "access-token-2-qwe"} {
			assertNoLeak(t, "GET "+path, b, v)
		}
	}
	if err := n.Store().Snapshot(); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"rotated-refresh-token-2-xyz", "access-token-1-qwe", "access-token-2-qwe"} {
		grepDataDir(t, n.cfg.DataDir, v)
	}
	if logs := getRaw(t, n, "http://"+n.HTTPAddr()+"/api/v1/jobs/"+second.ID+"/logs"); !strings.Contains(string(logs), "access token ***") {
		t.Fatalf("the log does not show the hidden access token: %s", logs)
	}
}
