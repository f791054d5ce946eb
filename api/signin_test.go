package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/apitest"
	"github.com/casare/casare/consensus"
)

// sessionCookie returns the session cookie an answer set, checking the
// attributes that keep it from scripts and other sites.
func sessionCookie(t *testing.T, resp response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: resp.header}).Cookies() {
		if c.Name != "casare_session" {
			continue
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge <= 0 {
			t.Fatalf("session cookie attributes: %+v", c)
		}
		return c
	}
	t.Fatalf("no session cookie in %v (status %d %s)", resp.header, resp.status, resp.body)
	return nil
}

func withCookie(c *http.Cookie) []string {
	return []string{"Authorization", "", "Cookie", c.Name + "=" + c.Value}
}

// TestSignInWithATokenGivesASessionCookie: a browser signs in with a
// viewer's token, is that viewer through its cookie (reads yes, writes
// 403), and after signing out the cookie no longer works anywhere.
func TestSignInWithATokenGivesASessionCookie(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	viewer := n.NewToken(t, "alice", consensus.RoleViewer)
	resp := send(t, http.MethodPost, n.URL+"/api/v1/auth/signin", "application/json", []byte(`{"token":"`+viewer+`"}`), "Authorization", "")
	if resp.status != http.StatusOK {
		t.Fatalf("sign in: %d %s", resp.status, resp.body)
	}
	cookie := sessionCookie(t, resp)
	if strings.Contains(cookie.Value, viewer) {
		t.Fatal("the session cookie carries the token itself")
	}
	var who api.WhoAmI
	me := send(t, http.MethodGet, n.URL+"/api/v1/auth/whoami", "", nil, withCookie(cookie)...)
	me.decode(t, &who)
	if me.status != http.StatusOK || who.Name != "alice" || who.Role != "viewer" || who.Kind != "session" {
		t.Fatalf("whoami through the cookie: %d %s", me.status, me.body)
	}
	if r := send(t, http.MethodPost, n.URL+"/api/v1/jobs", "application/json", []byte(`{}`), withCookie(cookie)...); r.status != http.StatusForbidden {
		t.Fatalf("a viewer's session submitting a job: %d %s", r.status, r.body)
	}
	out := send(t, http.MethodPost, n.URL+"/api/v1/auth/signout", "", nil, withCookie(cookie)...)
	if out.status != http.StatusNoContent || !strings.Contains(out.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out: %d %v", out.status, out.header)
	}
	if r := send(t, http.MethodGet, n.URL+"/api/v1/jobs", "", nil, withCookie(cookie)...); r.status != http.StatusUnauthorized {
		t.Fatalf("the signed-out session still reads: %d %s", r.status, r.body)
	}
	if r := send(t, http.MethodGet, n.URL+"/api/v1/jobs?token="+viewer, "", nil, "Authorization", ""); r.status != http.StatusUnauthorized {
		t.Fatalf("a token in the URL was accepted: %d", r.status)
	}
}

// TestSignInCodeWorksOnceAndEndsWithItsToken: a one-time code signs a
// browser in as the code's maker once; a second use is refused; revoking
// the token ends the session made from its code.
func TestSignInCodeWorksOnceAndEndsWithItsToken(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	op := n.NewToken(t, "bob", consensus.RoleOperator)
	var code api.SignInCode
	made := send(t, http.MethodPost, n.URL+"/api/v1/auth/codes", "", nil, "Authorization", "Bearer "+op)
	made.decode(t, &code)
	if made.status != http.StatusCreated || !strings.HasPrefix(code.Path, "/signin?code=") || time.Until(code.ExpiresAt) > api.SignInCodeTTL {
		t.Fatalf("make a code: %d %s", made.status, made.body)
	}
	body := []byte(`{"code":"` + code.Code + `"}`)
	first := send(t, http.MethodPost, n.URL+"/api/v1/auth/signin", "application/json", body, "Authorization", "")
	cookie := sessionCookie(t, first)
	var who api.WhoAmI
	first.decode(t, &who)
	if who.Name != "bob" || who.Role != "operator" {
		t.Fatalf("code signed in as %+v", who)
	}
	again := send(t, http.MethodPost, n.URL+"/api/v1/auth/signin", "application/json", body, "Authorization", "")
	if again.status != http.StatusUnauthorized || !strings.Contains(again.apiError(t).Message, "already been used") {
		t.Fatalf("second use of a code: %d %s", again.status, again.body)
	}
	if r := send(t, http.MethodGet, n.URL+"/api/v1/jobs", "", nil, withCookie(cookie)...); r.status != http.StatusOK {
		t.Fatalf("session from a code: %d %s", r.status, r.body)
	}
	if _, err := n.Store.RevokeAPIToken(t.Context(), who.TokenID); err != nil {
		t.Fatal(err)
	}
	if r := send(t, http.MethodGet, n.URL+"/api/v1/jobs", "", nil, withCookie(cookie)...); r.status != http.StatusUnauthorized || !strings.Contains(r.apiError(t).Message, "revoked") {
		t.Fatalf("session of a revoked token: %d %s", r.status, r.body)
	}
}

// TestTokensThroughTheAPI creates, lists and refuses tokens over HTTP:
// the secret is in the create answer only, bad input names its field,
// and a token past its ttl is refused as expired.
func TestTokensThroughTheAPI(t *testing.T) {
	t.Parallel()
	n := apitest.StartLeader(t, "n1")
	for body, field := range map[string]string{
		`{"name":"g","role":"root"}`:             "role",
		`{"name":"g","role":"viewer","ttl":"x"}`: "ttl",
		`{"role":"viewer"}`:                      "name",
	} {
		r := postJSON(t, n.URL+"/api/v1/tokens", body)
		if r.status != http.StatusBadRequest || !strings.Contains(r.apiError(t).Message, field) {
			t.Errorf("create %s: %d %s, want 400 naming %s", body, r.status, r.body, field)
		}
	}
	var created api.CreatedAPIToken
	r := postJSON(t, n.URL+"/api/v1/tokens", `{"name":"grafana","role":"viewer","ttl":"1s"}`)
	r.decode(t, &created)
	if r.status != http.StatusCreated || !strings.HasPrefix(created.Token, "casare_token_"+created.ID+"_") || created.ExpiresAt.IsZero() {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	list := get(t, n.URL+"/api/v1/tokens")
	if strings.Contains(string(list.body), created.Token[len(created.Token)-20:]) || strings.Contains(string(list.body), "hash") {
		t.Fatalf("the list shows a secret or hash: %s", list.body)
	}
	apitest.WaitFor(t, 10*time.Second, "the 1s token to expire", func() bool {
		r := send(t, http.MethodGet, n.URL+"/api/v1/jobs", "", nil, "Authorization", "Bearer "+created.Token)
		return r.status == http.StatusUnauthorized && strings.Contains(r.apiError(t).Message, "expired")
	})
}

// TestRevokedTokenRefusedOnEveryNodeWithinASecond: a token revoked
// through one node is refused by each of three nodes within a second.
func TestRevokedTokenRefusedOnEveryNodeWithinASecond(t *testing.T) {
	t.Parallel()
	nodes := threeNodes(t)
	var created api.CreatedAPIToken
	r := postJSON(t, nodes[0].URL+"/api/v1/tokens", `{"name":"ci","role":"operator"}`)
	r.decode(t, &created)
	for _, n := range nodes {
		apitest.WaitFor(t, 10*time.Second, "the new token to work on "+n.Name, func() bool {
			return send(t, http.MethodGet, n.URL+"/api/v1/jobs", "", nil, "Authorization", "Bearer "+created.Token).status == http.StatusOK
		})
	}
	if r := send(t, http.MethodDelete, nodes[1].URL+"/api/v1/tokens/"+created.ID, "", nil); r.status != http.StatusOK {
		t.Fatalf("revoke through a follower: %d %s", r.status, r.body)
	}
	revoked := time.Now()
	for _, n := range nodes {
		apitest.WaitFor(t, time.Second-time.Since(revoked), "the revoked token to be refused on "+n.Name, func() bool {
			return send(t, http.MethodGet, n.URL+"/api/v1/jobs", "", nil, "Authorization", "Bearer "+created.Token).status == http.StatusUnauthorized
		})
	}
	t.Logf("revocation refused on all 3 nodes %v after the revoke answered", time.Since(revoked))
}

// threeNodes starts a three-server cluster and returns its nodes, the
// leader first.
func threeNodes(t *testing.T) []*apitest.Node {
	t.Helper()
	n1 := apitest.StartLeader(t, "n1")
	nodes := []*apitest.Node{n1}
	for _, name := range []string{"n2", "n3"} {
		n := apitest.Start(t, apitest.Config{Name: name})
		if _, err := n1.Peer.Join(t.Context(), n.JoinRequest()); err != nil {
			t.Fatalf("join %s: %v", name, err)
		}
		n.WaitLeaderKnown(t, 10*time.Second)
		nodes = append(nodes, n)
	}
	return nodes
}
