package executor

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tokenServer is an authorization server and an API on 127.0.0.1 that
// check what the OAuth nodes send.
type tokenServer struct {
	*httptest.Server
	issued atomic.Int64
	mu     sync.Mutex
	auth   []string // the Authorization headers /api/me received
}

// lastAuth returns the Authorization header of the latest API call.
func (ts *tokenServer) lastAuth(n int) []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.auth[max(0, len(ts.auth)-n):]...)
}

const (
	clientID     = "robot"
	clientSecret = "s3cret"
	authCode     = "code-123"
	redirectURL  = "http://127.0.0.1/callback"
	// The PKCE verifier and its S256 challenge, as the authorization
	// request would have sent it.
	codeVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{}
	challenge := sha256.Sum256([]byte(codeVerifier))
	wantChallenge := base64.RawURLEncoding.EncodeToString(challenge[:])
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		if id != clientID || secret != clientSecret {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client"})
			return
		}
		n := ts.issued.Add(1)
		resp := map[string]any{"token_type": "bearer", "expires_in": 3600}
		switch r.Form.Get("grant_type") {
		case "client_credentials":
			resp["access_token"] = "cc-" + strings.ReplaceAll(r.Form.Get("scope"), " ", "+")
		case "authorization_code":
			verifier := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
			if r.Form.Get("code") != authCode || r.Form.Get("redirect_uri") != redirectURL ||
				base64.RawURLEncoding.EncodeToString(verifier[:]) != wantChallenge {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
				return
			}
			resp["access_token"] = "ac-1"
			resp["refresh_token"] = "rt-1"
		case "refresh_token":
			if r.Form.Get("refresh_token") != "rt-1" {
				http.Error(w, `{"error": "invalid_grant"}`, http.StatusBadRequest)
				return
			}
			resp["access_token"] = "refreshed-" + string(rune('0'+n))
		default:
			http.Error(w, "unsupported grant", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		ts.auth = append(ts.auth, r.Header.Get("Authorization"))
		ts.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{"authorization": r.Header.Get("Authorization")})
	})
	ts.Server = httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func TestOAuthNodes(t *testing.T) {
	srv := newTokenServer(t)
	e, _ := testEngine(t)
	client := func(kv ...any) map[string]any {
		return cfg(append([]any{"token_url", "{{ auth_server }}/token", "client_id", clientID, "client_secret", "{{ secret }}"}, kv...)...)
	}
	vars := map[string]any{"auth_server": srv.URL, "secret": clientSecret}
	runNodeCases(t, e, []nodeCase{
		{
			name: "client credentials, then an API call with the token",
			nodes: []Node{
				{ID: "token", Type: "oauth2_client_credentials", Config: client("scopes", []any{"read", "write"}, "output_var", "tok")},
				{ID: "call", Type: "http_request", Config: cfg("url", srv.URL+"/api/me", "oauth2_token_var", "tok", "output_var", "me")},
				{ID: "say", Type: "log", Config: cfg("message", "token {{ tok.access_token }}")},
			},
			vars: vars,
			// The access token is a credential: the run hides it in its
			// logs, its variables and what the API echoed, while the API
			// received it.
			logs: []string{"token ***"},
			check: func(t *testing.T, res Result) {
				if got := srv.lastAuth(1); len(got) != 1 || got[0] != "Bearer cc-read+write" {
					t.Errorf("API saw Authorization %q", got)
				}
				tok := res.Variables["tok"].(map[string]any)
				if tok["access_token"] != Redacted || tok["token_type"] != "Bearer" {
					t.Errorf("token %s", showJSON(tok))
				}
				expiry, err := time.Parse(time.RFC3339, tok["expiry"].(string))
				if err != nil || time.Until(expiry) < 50*time.Minute {
					t.Errorf("expiry %v (%v)", tok["expiry"], err)
				}
				body := res.Variables["me"].(map[string]any)["body"].(map[string]any)
				if body["authorization"] != "Bearer "+Redacted {
					t.Errorf("the echoed token shows as %q", body["authorization"])
				}
			},
		},
		{
			name:      "wrong client secret",
			nodes:     []Node{{ID: "token", Type: "oauth2_client_credentials", Config: client("output_var", "tok")}},
			vars:      map[string]any{"auth_server": srv.URL, "secret": "wrong"},
			state:     StateFailed,
			kind:      FailureApplication,
			errSubstr: "invalid_client",
		},
		{
			name: "authorization code with PKCE, then refresh",
			nodes: []Node{
				{ID: "exchange", Type: "oauth2_auth_code", Config: client("code", authCode, "redirect_url", redirectURL, "code_verifier", codeVerifier, "output_var", "tok")},
				{ID: "refresh", Type: "oauth2_refresh", Config: client("token_var", "tok", "output_var", "fresh")},
				{ID: "in_place", Type: "oauth2_refresh", Config: client("token_var", "tok")},
				{ID: "use_fresh", Type: "http_request", Config: cfg("url", srv.URL+"/api/me", "oauth2_token_var", "fresh")},
				{ID: "use_tok", Type: "http_request", Config: cfg("url", srv.URL+"/api/me", "oauth2_token_var", "tok")},
			},
			vars: vars,
			check: func(t *testing.T, res Result) {
				// The refresh server takes only rt-1, so both refreshes
				// used the kept refresh token; each issued a new access
				// token, which the API received.
				got := srv.lastAuth(2)
				if len(got) != 2 || !strings.HasPrefix(got[0], "Bearer refreshed-") || !strings.HasPrefix(got[1], "Bearer refreshed-") || got[0] == got[1] {
					t.Errorf("API saw Authorization %q: want two different refreshed tokens", got)
				}
				for _, name := range []string{"fresh", "tok"} {
					tok := res.Variables[name].(map[string]any)
					if tok["access_token"] != Redacted || tok["refresh_token"] != Redacted {
						t.Errorf("variable %s shows %s: want its tokens hidden", name, showJSON(tok))
					}
				}
			},
		},
		{
			name:      "wrong PKCE verifier",
			nodes:     []Node{{ID: "exchange", Type: "oauth2_auth_code", Config: client("code", authCode, "redirect_url", redirectURL, "code_verifier", "not-the-verifier", "output_var", "tok")}},
			vars:      vars,
			state:     StateFailed,
			errSubstr: "invalid_grant",
		},
		{
			name:      "refresh without a refresh token",
			nodes:     []Node{{ID: "refresh", Type: "oauth2_refresh", Config: client("token_var", "tok")}},
			vars:      map[string]any{"auth_server": srv.URL, "secret": clientSecret, "tok": map[string]any{"access_token": "x"}},
			state:     StateFailed,
			errSubstr: "has no refresh_token",
		},
	})
}
