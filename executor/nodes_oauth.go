package executor

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// A token in a variable is a map with these keys, so that workflows can
// read it and checkpoints can carry it:
//
//	{"access_token": "...", "token_type": "Bearer", "refresh_token": "...", "expiry": "2006-01-02T15:04:05Z"}
//
// expiry is empty when the server gave no lifetime.

func oauthKinds() []*nodeKind {
	clientFields := []Field{
		{Name: "token_url", Type: TypeString, Required: true, Description: "the authorization server's token endpoint"},
		{Name: "client_id", Type: TypeString, Required: true, Description: "OAuth 2.0 client id"},
		{Name: "client_secret", Type: TypeString, Description: "client secret; leave out for public clients"},
	}
	output := Field{Name: "output_var", Type: TypeVariable, Required: true, Description: "variable that receives the token {access_token, token_type, refresh_token, expiry}"}
	storeAs := Field{Name: "store_refresh_token_as", Type: TypeString, Description: "vault secret that receives the new refresh token when the server issues one (the secret must exist and allow this workflow); the token is hidden as *** in the run's output"}
	return []*nodeKind{
		{
			NodeType: NodeType{
				Name:        "oauth2_client_credentials",
				Category:    "oauth2",
				Description: "Gets a token with the client credentials grant.",
				Fields: append(clientFields[:3:3],
					Field{Name: "scopes", Type: TypeStringList, Description: "requested scopes"},
					output),
				Ports:     []string{""},
				ErrorPort: true,
			},
			effects: true,
			exec:    execClientCredentials,
		},
		{
			NodeType: NodeType{
				Name:        "oauth2_auth_code",
				Category:    "oauth2",
				Description: "Exchanges an authorization code for a token, with PKCE when code_verifier is set.",
				Fields: append(clientFields[:3:3],
					Field{Name: "code", Type: TypeString, Required: true, Description: "the authorization code from the redirect"},
					Field{Name: "redirect_url", Type: TypeString, Description: "the redirect URL used in the authorization request"},
					Field{Name: "code_verifier", Type: TypeString, Description: "PKCE code verifier"},
					storeAs, output),
				Ports:     []string{""},
				ErrorPort: true,
			},
			effects: true,
			exec:    execAuthCode,
		},
		{
			NodeType: NodeType{
				Name:        "oauth2_refresh",
				Category:    "oauth2",
				Description: "Refreshes a token with its refresh token, from token_var or refresh_token (such as {{ secret(\"CRM_REFRESH\") }}). The old refresh token is kept when the server issues none.",
				Fields: append(clientFields[:3:3],
					Field{Name: "token_var", Type: TypeVariable, Description: "variable holding the token to refresh; or give refresh_token"},
					Field{Name: "refresh_token", Type: TypeString, Description: "the refresh token itself, typically {{ secret(\"NAME\") }}; or give token_var"},
					storeAs,
					Field{Name: "output_var", Type: TypeVariable, Description: "variable that receives the new token; default: token_var (required with refresh_token)"}),
				Ports:     []string{""},
				ErrorPort: true,
			},
			effects: true,
			exec:    execRefresh,
		},
	}
}

// oauthConfig reads the client fields shared by the OAuth nodes.
func (c call) oauthConfig() (*oauth2.Config, error) {
	tokenURL, err := c.requiredStr("token_url")
	if err != nil {
		return nil, err
	}
	clientID, err := c.requiredStr("client_id")
	if err != nil {
		return nil, err
	}
	secret, err := c.str("client_secret")
	if err != nil {
		return nil, err
	}
	return &oauth2.Config{ClientID: clientID, ClientSecret: secret, Endpoint: oauth2.Endpoint{TokenURL: tokenURL}}, nil
}

// oauthContext makes the oauth2 package use the engine's HTTP client.
func (c call) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c.r.engine.client)
}

func execClientCredentials(ctx context.Context, c call) (string, error) {
	conf, err := c.oauthConfig()
	if err != nil {
		return "", err
	}
	scopes, err := c.strList("scopes")
	if err != nil {
		return "", err
	}
	cc := clientcredentials.Config{ClientID: conf.ClientID, ClientSecret: conf.ClientSecret, TokenURL: conf.Endpoint.TokenURL, Scopes: scopes}
	tok, err := cc.Token(c.oauthContext(ctx))
	if err != nil {
		return "", fmt.Errorf("client credentials grant: %w", err)
	}
	c.hideToken(tok)
	return "", c.setOutput(tokenToValue(tok))
}

func execAuthCode(ctx context.Context, c call) (string, error) {
	conf, err := c.oauthConfig()
	if err != nil {
		return "", err
	}
	code, err := c.requiredStr("code")
	if err != nil {
		return "", err
	}
	if conf.RedirectURL, err = c.str("redirect_url"); err != nil {
		return "", err
	}
	verifier, err := c.str("code_verifier")
	if err != nil {
		return "", err
	}
	var opts []oauth2.AuthCodeOption
	if verifier != "" {
		opts = append(opts, oauth2.VerifierOption(verifier))
	}
	tok, err := conf.Exchange(c.oauthContext(ctx), code, opts...)
	if err != nil {
		return "", fmt.Errorf("exchange authorization code: %w", err)
	}
	c.hideToken(tok)
	if err := c.storeRefreshToken(tok); err != nil {
		return "", err
	}
	return "", c.setOutput(tokenToValue(tok))
}

func execRefresh(ctx context.Context, c call) (string, error) {
	conf, err := c.oauthConfig()
	if err != nil {
		return "", err
	}
	old, out, err := c.tokenToRefresh()
	if err != nil {
		return "", err
	}
	// Without its access token the copy is never valid, so the token
	// source refreshes whatever the old token's expiry says.
	stale := &oauth2.Token{RefreshToken: old.RefreshToken}
	tok, err := conf.TokenSource(c.oauthContext(ctx), stale).Token()
	if err != nil {
		return "", fmt.Errorf("refresh token: %w", err)
	}
	c.hideToken(tok)
	if tok.RefreshToken != old.RefreshToken {
		if err := c.storeRefreshToken(tok); err != nil {
			return "", err
		}
	}
	return "", c.set(out, tokenToValue(tok))
}

// tokenToRefresh reads the refresh token from token_var or refresh_token
// and the variable that receives the new token.
func (c call) tokenToRefresh() (*oauth2.Token, string, error) {
	tokenVar, err := c.str("token_var")
	if err != nil {
		return nil, "", err
	}
	direct, err := c.str("refresh_token")
	if err != nil {
		return nil, "", err
	}
	out, err := c.str("output_var")
	if err != nil {
		return nil, "", err
	}
	switch {
	case tokenVar != "" && direct != "":
		return nil, "", errors.New("give token_var or refresh_token, not both")
	case direct != "":
		if out == "" {
			return nil, "", errors.New("output_var: required with refresh_token")
		}
		return &oauth2.Token{RefreshToken: direct}, out, nil
	case tokenVar == "":
		return nil, "", errors.New("token_var or refresh_token: one is required")
	}
	old, err := tokenFromValue(c.r.vars[tokenVar])
	if err != nil {
		return nil, "", fmt.Errorf("token_var: variable %s: %w", tokenVar, err)
	}
	if old.RefreshToken == "" {
		return nil, "", fmt.Errorf("token_var: variable %s has no refresh_token", tokenVar)
	}
	return old, cmp.Or(out, tokenVar), nil
}

// hideToken makes the run hide a token it got as *** from now on, like a
// secret: an access or refresh token is a credential whether or not the
// vault keeps it, and the run puts it in a variable that checkpoints,
// the result and the debugger would otherwise show.
func (c call) hideToken(tok *oauth2.Token) {
	c.r.shared.redact.add(tok.AccessToken)
	c.r.shared.redact.add(tok.RefreshToken)
}

// storeRefreshToken hands a new refresh token to the run's secrets to
// store (store_refresh_token_as) and hides it from then on.
func (c call) storeRefreshToken(tok *oauth2.Token) error {
	name, err := c.str("store_refresh_token_as")
	if err != nil || name == "" || tok.RefreshToken == "" {
		return err
	}
	c.r.shared.storeSecret(name, tok.RefreshToken)
	return nil
}

func tokenToValue(t *oauth2.Token) map[string]any {
	expiry := ""
	if !t.Expiry.IsZero() {
		expiry = t.Expiry.UTC().Format(time.RFC3339)
	}
	return map[string]any{
		"access_token":  t.AccessToken,
		"token_type":    t.Type(),
		"refresh_token": t.RefreshToken,
		"expiry":        expiry,
	}
}

func tokenFromValue(v any) (*oauth2.Token, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a token object, got %s", jsonKind(v))
	}
	t := &oauth2.Token{}
	t.AccessToken, _ = m["access_token"].(string)
	t.TokenType, _ = m["token_type"].(string)
	t.RefreshToken, _ = m["refresh_token"].(string)
	if s, _ := m["expiry"].(string); s != "" {
		exp, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, fmt.Errorf("expiry: %w", err)
		}
		t.Expiry = exp
	}
	if t.AccessToken == "" && t.RefreshToken == "" {
		return nil, errors.New("token has neither access_token nor refresh_token")
	}
	return t, nil
}
