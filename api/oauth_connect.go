package api

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
)

// Connecting an OAuth account once: POST .../oauth-connect makes a state
// value and a PKCE verifier, keeps them on this node and answers the
// provider's consent URL; the provider sends the browser back to
// /oauth/callback on this node, which checks the state (once: a replayed
// or unknown state is refused), exchanges the code with the verifier and
// stores the refresh token as the secret. /oauth/callback carries no
// token of ours: the state is its authentication, so it must stay outside
// the API's auth middleware.

// oauthFlowTTL is how long a person has to consent: long enough to sign
// in at the provider, short enough that forgotten flows do not pile up.
const oauthFlowTTL = 10 * time.Minute

// maxOAuthFlows bounds pending flows per node, so repeated starts cannot
// grow memory without limit.
const maxOAuthFlows = 256

// oauthExchangeTimeout bounds the code exchange with the provider.
const oauthExchangeTimeout = 30 * time.Second

type oauthFlow struct {
	name       string
	conf       oauth2.Config
	secretFrom string
	verifier   string
	allowed    []string
	by         string
	expires    time.Time
}

// oauthFlows are the connect flows started on this node, by state.
type oauthFlows struct {
	mu      sync.Mutex
	pending map[string]oauthFlow
}

func (f *oauthFlows) add(state string, flow oauthFlow, now time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending == nil {
		f.pending = map[string]oauthFlow{}
	}
	for s, p := range f.pending {
		if now.After(p.expires) {
			delete(f.pending, s)
		}
	}
	if len(f.pending) >= maxOAuthFlows {
		return newError(consensus.CodeConflict, "%d OAuth connect flows are waiting for consent on this node; finish or let them expire (%s)", maxOAuthFlows, oauthFlowTTL)
	}
	f.pending[state] = flow
	return nil
}

// take removes and returns the flow of state: each state works once.
func (f *oauthFlows) take(state string, now time.Time) (oauthFlow, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	flow, ok := f.pending[state]
	delete(f.pending, state)
	return flow, ok && now.Before(flow.expires)
}

func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("draw OAuth state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func checkOAuthURL(field, raw string) error {
	u, err := url.Parse(raw)
	if raw == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return invalidField(field, "must be an http or https URL")
	}
	return nil
}

func (s secretsAPI) oauthConnect(c *gin.Context) {
	var req wire.OAuthConnectRequest
	if !s.bindJSON(c, &req) {
		return
	}
	name := c.Param("name")
	if !consensus.ValidSecretName(name) {
		s.abort(c, invalidField("name", "%q is not a valid secret name", name))
		return
	}
	if req.RedirectURL == "" {
		scheme := "http"
		if c.Request.TLS != nil {
			scheme = "https"
		}
		req.RedirectURL = scheme + "://" + c.Request.Host + "/oauth/callback"
	}
	for field, u := range map[string]string{"auth_url": req.AuthURL, "token_url": req.TokenURL, "redirect_url": req.RedirectURL} {
		if err := checkOAuthURL(field, u); err != nil {
			s.abort(c, err)
			return
		}
	}
	if req.ClientID == "" {
		s.abort(c, missingFields("client_id"))
		return
	}
	if _, ok := s.cfg.Store.SecretInfo(req.ClientSecretFrom); req.ClientSecretFrom != "" && !ok {
		s.abort(c, invalidField("client_secret_from", "secret %q not found", req.ClientSecretFrom))
		return
	}
	state, err := randomState()
	if err != nil {
		s.abort(c, err)
		return
	}
	now := time.Now()
	flow := oauthFlow{
		name: name, secretFrom: req.ClientSecretFrom, verifier: oauth2.GenerateVerifier(),
		allowed: req.AllowedWorkflows, by: callerName(c), expires: now.Add(oauthFlowTTL),
		conf: oauth2.Config{
			ClientID: req.ClientID, Scopes: req.Scopes, RedirectURL: req.RedirectURL,
			Endpoint: oauth2.Endpoint{AuthURL: req.AuthURL, TokenURL: req.TokenURL},
		},
	}
	if err := s.oauth.add(state, flow, now); err != nil {
		s.abort(c, err)
		return
	}
	consent := flow.conf.AuthCodeURL(state, oauth2.AccessTypeOffline, oauth2.S256ChallengeOption(flow.verifier))
	c.JSON(http.StatusOK, wire.OAuthConnectResponse{ConsentURL: consent, RedirectURL: req.RedirectURL, ExpiresAt: flow.expires})
}

// oauthCallback receives the provider's redirect. Its answers are plain
// text for the person in the browser.
func (s secretsAPI) oauthCallback(c *gin.Context) {
	flow, ok := s.oauth.take(c.Query("state"), time.Now())
	if !ok {
		c.String(http.StatusBadRequest, "Unknown, expired or already used state: start again with `casare secrets oauth-connect`.\n")
		return
	}
	if e := c.Query("error"); e != "" {
		c.String(http.StatusBadRequest, "The provider refused: %s %s\n", e, c.Query("error_description"))
		return
	}
	code := c.Query("code")
	if code == "" {
		c.String(http.StatusBadRequest, "The provider sent no code.\n")
		return
	}
	meta, err := s.finishOAuth(c.Request.Context(), flow, code)
	if err != nil {
		s.log.Warn("OAuth connect failed", "secret", flow.name, "err", err)
		c.String(http.StatusBadGateway, "Connecting failed: %v\n", err)
		return
	}
	c.String(http.StatusOK, "Connected. The refresh token is stored as secret %s (version %d). You can close this window.\n", meta.Name, meta.Version)
}

func (s secretsAPI) finishOAuth(ctx context.Context, flow oauthFlow, code string) (consensus.SecretMeta, error) {
	if flow.secretFrom != "" {
		secret, err := s.cfg.Store.OpenSecret(flow.secretFrom)
		if err != nil {
			return consensus.SecretMeta{}, fmt.Errorf("client secret %s: %w", flow.secretFrom, err)
		}
		flow.conf.ClientSecret = string(secret)
	}
	ctx, cancel := context.WithTimeout(ctx, oauthExchangeTimeout)
	defer cancel()
	tok, err := flow.conf.Exchange(ctx, code, oauth2.VerifierOption(flow.verifier))
	if err != nil {
		return consensus.SecretMeta{}, fmt.Errorf("exchange the code at %s: %w", flow.conf.Endpoint.TokenURL, err)
	}
	if tok.RefreshToken == "" {
		return consensus.SecretMeta{}, fmt.Errorf("the provider issued no refresh token (does the client ask for offline access?)")
	}
	return s.cfg.Store.SetSecret(ctx, flow.name, []byte(tok.RefreshToken), flow.allowed, flow.by)
}
