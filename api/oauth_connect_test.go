package api_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/api/wire"
)

// fakeProvider is an OAuth authorization server: /authorize redirects
// back with a code, remembering the PKCE challenge; /token accepts that
// code once, with the verifier that matches and the right client secret.
type fakeProvider struct {
	*httptest.Server
	mu        sync.Mutex
	challenge map[string]string // code → code_challenge
	exchanges int
}

func newFakeProvider(t *testing.T, clientSecret string) *fakeProvider {
	p := &fakeProvider{challenge: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("response_type") != "code" || q.Get("state") == "" {
			http.Error(w, "bad authorization request", http.StatusBadRequest)
			return
		}
		p.mu.Lock()
		code := fmt.Sprintf("code-%d", len(p.challenge)+1)
		p.challenge[code] = q.Get("code_challenge")
		p.mu.Unlock()
		back, _ := url.Parse(q.Get("redirect_uri"))
		bq := back.Query()
		bq.Set("code", code)
		bq.Set("state", q.Get("state"))
		back.RawQuery = bq.Encode()
		http.Redirect(w, r, back.String(), http.StatusFound)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		_, secret, _ := r.BasicAuth()
		if secret == "" {
			secret = r.Form.Get("client_secret")
		}
		sum := sha256.Sum256([]byte(r.Form.Get("code_verifier")))
		p.mu.Lock()
		want, ok := p.challenge[r.Form.Get("code")]
		delete(p.challenge, r.Form.Get("code"))
		p.mu.Unlock()
		if !ok || secret != clientSecret || base64.RawURLEncoding.EncodeToString(sum[:]) != want {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		p.mu.Lock()
		p.exchanges++
		p.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at-1", "token_type": "Bearer", "refresh_token": "connected-refresh-token-1", "expires_in": 3600})
	})
	p.Server = httptest.NewServer(mux)
	t.Cleanup(p.Close)
	return p
}

// noRedirects is a browser that stops at each redirect, so the test can
// follow, replay and forge them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func browse(t *testing.T, u string) (int, string, string) {
	t.Helper()
	resp, err := noRedirects.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// TestOAuthConnectStoresTheRefreshTokenOnce connects an account against a
// local provider with PKCE and a state: the refresh token lands in the
// vault; the same callback replayed, and a state the node never made,
// are refused and store nothing.
func TestOAuthConnectStoresTheRefreshTokenOnce(t *testing.T) {
	node := apitest.StartLeader(t, "n1")
	provider := newFakeProvider(t, "the-client-secret")
	if _, err := node.Client.SetSecret(t.Context(), "CRM_CLIENT", wire.PutSecretRequest{Value: "the-client-secret"}); err != nil {
		t.Fatal(err)
	}
	start, err := node.Client.OAuthConnect(t.Context(), "CRM_REFRESH", wire.OAuthConnectRequest{
		AuthURL: provider.URL + "/authorize", TokenURL: provider.URL + "/token", ClientID: "casare",
		ClientSecretFrom: "CRM_CLIENT", Scopes: []string{"read"},
	})
	if err != nil {
		t.Fatalf("oauth-connect: %v", err)
	}
	if !strings.HasPrefix(start.RedirectURL, node.URL+"/oauth/callback") {
		t.Fatalf("redirect URL %q is not this node's callback", start.RedirectURL)
	}
	status, callback, _ := browse(t, start.ConsentURL)
	if status != http.StatusFound || !strings.HasPrefix(callback, node.URL+"/oauth/callback?") {
		t.Fatalf("consent answered %d, Location %q", status, callback)
	}
	status, _, body := browse(t, callback)
	if status != http.StatusOK || !strings.Contains(body, "CRM_REFRESH (version 1)") || strings.Contains(body, "connected-refresh-token-1") {
		t.Fatalf("callback: %d %q", status, body)
	}
	stored, err := node.Store.OpenSecret("CRM_REFRESH")
	if err != nil || string(stored) != "connected-refresh-token-1" {
		t.Fatalf("stored %q (%v), want the provider's refresh token", stored, err)
	}

	if status, _, body := browse(t, callback); status != http.StatusBadRequest || !strings.Contains(body, "already used") {
		t.Fatalf("replayed callback: %d %q", status, body)
	}
	forged := strings.Replace(callback, "state=", "state=forged", 1)
	if status, _, body := browse(t, forged); status != http.StatusBadRequest || !strings.Contains(body, "Unknown") {
		t.Fatalf("foreign state: %d %q", status, body)
	}
	meta, _ := node.Client.Secret(t.Context(), "CRM_REFRESH")
	provider.mu.Lock()
	defer provider.mu.Unlock()
	if meta.Version != 1 || provider.exchanges != 1 {
		t.Fatalf("after the refused callbacks: version %d, %d exchanges; want 1 and 1", meta.Version, provider.exchanges)
	}
}
