package api

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

const (
	// apiSecretBytes is the entropy of every API credential's secret:
	// 256 bits, so a plain SHA-256 of it is a safe stored form.
	apiSecretBytes = 32
	// SessionTTL is how long a browser stays signed in: a working day,
	// and never longer than the token it signed in with.
	SessionTTL = 12 * time.Hour
	// SignInCodeTTL is how long a one-time sign-in code can be used:
	// long enough to open the printed link, short enough that one lying
	// in a terminal's scrollback is soon worthless.
	SignInCodeTTL = 5 * time.Minute
)

// NewAPISecret returns a fresh random credential secret.
func NewAPISecret() (string, error) {
	b := make([]byte, apiSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate credential secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func apiTokenView(t consensus.APIToken) APIToken {
	return APIToken{ID: t.ID, Name: t.Name, Role: string(t.Role), CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, Revoked: t.Revoked}
}

// createAPIToken makes a token and shows its secret once.
func (s accessAPI) createAPIToken(c *gin.Context) {
	var req CreateTokenRequest
	if !s.bindJSON(c, &req) {
		return
	}
	cmd, err := tokenCmd(req)
	if err != nil {
		s.abort(c, err)
		return
	}
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err == nil {
		cmd.ID, err = newID(key, "api-token")
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	token, secret, err := s.storeCredential(c, cmd)
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusCreated, CreatedAPIToken{APIToken: apiTokenView(token), Token: consensus.FormatAPIToken(consensus.KindToken, token.ID, secret)})
}

// tokenCmd checks a create request and turns it into a command.
func tokenCmd(req CreateTokenRequest) (consensus.CreateAPITokenCmd, error) {
	cmd := consensus.CreateAPITokenCmd{Name: req.Name, Role: consensus.Role(req.Role), Kind: consensus.KindToken}
	if err := checkRobotName(req.Name); err != nil || req.Name == "" {
		if err == nil {
			err = missingFields("name")
		}
		return cmd, err
	}
	if !cmd.Role.Valid() {
		return cmd, invalidField("role", "%q is not a role: want viewer, operator or admin", req.Role)
	}
	if req.TTL != "" {
		ttl, err := time.ParseDuration(req.TTL)
		if err != nil || ttl <= 0 {
			return cmd, invalidField("ttl", "%q is not a positive duration such as \"720h\"", req.TTL)
		}
		cmd.TTL = ttl
	}
	return cmd, nil
}

// storeCredential stores cmd with a fresh secret's hash and returns the
// credential and the secret. A retry under the same id that finds the
// first attempt's credential cannot show that secret again: conflict.
func (s accessAPI) storeCredential(c *gin.Context, cmd consensus.CreateAPITokenCmd) (consensus.APIToken, string, error) {
	secret, err := NewAPISecret()
	if err != nil {
		return consensus.APIToken{}, "", err
	}
	if cmd.ID == "" {
		if cmd.ID, err = newID("", string(cmd.Kind)); err != nil {
			return consensus.APIToken{}, "", err
		}
	}
	cmd.Hash = consensus.HashToken(secret)
	t, err := s.cfg.Store.CreateAPIToken(c.Request.Context(), cmd)
	if err != nil {
		return t, "", err
	}
	if t.Hash != cmd.Hash {
		return t, "", newError(consensus.CodeConflict,
			"%s %s was already created with this Idempotency-Key and its secret shown then; revoke it and create a new one", cmd.Kind, t.ID)
	}
	return t, secret, nil
}

func (s accessAPI) listAPITokens(c *gin.Context) {
	index := s.cfg.Store.AppliedIndex()
	setAppliedIndex(c, index)
	tokens := s.cfg.Store.APITokens()
	out := make([]APIToken, len(tokens))
	for i, t := range tokens {
		out[i] = apiTokenView(t)
	}
	c.JSON(http.StatusOK, APITokenList{Tokens: out, AppliedIndex: index})
}

func (s accessAPI) revokeAPIToken(c *gin.Context) {
	t, err := s.cfg.Store.RevokeAPIToken(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, apiTokenView(t))
}

// signIn exchanges a token or a one-time code for a session cookie.
func (s accessAPI) signIn(c *gin.Context) {
	var req SignInRequest
	if !s.bindJSON(c, &req) {
		return
	}
	var sess consensus.APIToken
	var secret string
	var err error
	switch {
	case (req.Token == "") == (req.Code == ""):
		err = invalid("give exactly one of token or code")
	case req.Token != "":
		sess, secret, err = s.signInWithToken(c, req.Token)
	default:
		sess, secret, err = s.signInWithCode(c, req.Code)
	}
	if err != nil {
		s.abort(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: consensus.FormatAPIToken(consensus.KindSession, sess.ID, secret),
		Path: "/", Expires: sess.ExpiresAt, MaxAge: int(time.Until(sess.ExpiresAt).Seconds()),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
	c.JSON(http.StatusOK, whoAmI(sess))
}

func (s accessAPI) signInWithToken(c *gin.Context, raw string) (consensus.APIToken, string, error) {
	id, secret, err := consensus.ParseAPIToken(consensus.KindToken, raw)
	if err != nil {
		return consensus.APIToken{}, "", newError(CodeUnauthenticated, "%v", err)
	}
	t, err := s.cfg.Store.Authenticate(id, secret, time.Now(), consensus.KindToken)
	if err != nil {
		return t, "", newError(CodeUnauthenticated, "sign in refused: %v", err)
	}
	return s.storeCredential(c, consensus.CreateAPITokenCmd{Kind: consensus.KindSession, Parent: t.ID, TTL: SessionTTL})
}

func (s accessAPI) signInWithCode(c *gin.Context, raw string) (consensus.APIToken, string, error) {
	id, codeSecret, err := consensus.ParseAPIToken(consensus.KindCode, raw)
	if err != nil {
		return consensus.APIToken{}, "", newError(CodeUnauthenticated, "%v", err)
	}
	secret, err := NewAPISecret()
	if err != nil {
		return consensus.APIToken{}, "", err
	}
	sessID, err := newID("", "session")
	if err != nil {
		return consensus.APIToken{}, "", err
	}
	sess, err := s.cfg.Store.RedeemCode(c.Request.Context(), consensus.RedeemCodeCmd{
		CodeID: id, CodeHash: consensus.HashToken(codeSecret),
		SessionID: sessID, SessionHash: consensus.HashToken(secret), TTL: SessionTTL,
	})
	if consensus.IsCode(err, consensus.CodeInvalid) {
		return sess, "", newError(CodeUnauthenticated, "sign in refused: %v", err)
	}
	return sess, secret, err
}

// signOut ends the browser's session on every node and clears its cookie.
// It needs no credential: a page whose session already ended must still
// be able to clear the cookie.
func (s accessAPI) signOut(c *gin.Context) {
	if ck, err := c.Request.Cookie(sessionCookie); err == nil {
		if id, _, perr := consensus.ParseAPIToken(consensus.KindSession, ck.Value); perr == nil && s.cfg.Store.HasAPIToken(id) {
			if _, err := s.cfg.Store.RevokeAPIToken(c.Request.Context(), id); err != nil {
				s.abort(c, err)
				return
			}
		}
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: c.Request.TLS != nil,
	})
	c.Status(http.StatusNoContent)
}

func whoAmI(t consensus.APIToken) WhoAmI {
	tokenID := t.ID
	if t.Parent != "" {
		tokenID = t.Parent
	}
	return WhoAmI{Name: t.Name, Role: string(t.Role), Kind: string(t.Kind), TokenID: tokenID, ExpiresAt: t.ExpiresAt}
}

func (s accessAPI) whoAmI(c *gin.Context) {
	p, _ := principal(c)
	c.JSON(http.StatusOK, whoAmI(p))
}

// createSignInCode makes a one-time code that signs a browser in as the
// caller, for `casare dashboard` to print as a link.
func (s accessAPI) createSignInCode(c *gin.Context) {
	p, _ := principal(c)
	parent := p.ID
	if p.Parent != "" {
		parent = p.Parent
	}
	code, secret, err := s.storeCredential(c, consensus.CreateAPITokenCmd{Kind: consensus.KindCode, Parent: parent, TTL: SignInCodeTTL})
	if err != nil {
		s.abort(c, err)
		return
	}
	raw := consensus.FormatAPIToken(consensus.KindCode, code.ID, secret)
	c.JSON(http.StatusCreated, SignInCode{Code: raw, ExpiresAt: code.ExpiresAt, Path: "/signin?code=" + url.QueryEscape(raw)})
}
