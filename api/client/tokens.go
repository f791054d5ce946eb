package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// CreateAPIToken makes an API token with a role (viewer, operator or
// admin) and a lifetime ttl such as "720h" (empty: no expiry). The answer
// holds the token; it is never shown again.
func (c tokenService) CreateAPIToken(ctx context.Context, req wire.CreateTokenRequest, opts ...CallOption) (wire.CreatedAPIToken, error) {
	return sendJSON[wire.CreatedAPIToken](ctx, c.conn, http.MethodPost, "/api/v1/tokens", req, opts...)
}

// APITokens lists the API tokens, without secrets.
func (c tokenService) APITokens(ctx context.Context, opts ...CallOption) (wire.APITokenList, error) {
	return callFor[wire.APITokenList](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/tokens", opts: opts})
}

// RevokeAPIToken revokes an API token and the sessions signed in with it,
// on every node.
func (c tokenService) RevokeAPIToken(ctx context.Context, id string, opts ...CallOption) (wire.APIToken, error) {
	return callFor[wire.APIToken](ctx, c.conn, request{method: http.MethodDelete, path: "/api/v1/tokens/" + url.PathEscape(id), opts: opts})
}

// WhoAmI says whose the client's credential is and what role it has.
func (c tokenService) WhoAmI(ctx context.Context, opts ...CallOption) (wire.WhoAmI, error) {
	return callFor[wire.WhoAmI](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/auth/whoami", opts: opts})
}

// CreateSignInCode makes a one-time code that signs a browser in with
// the client's name and role.
func (c tokenService) CreateSignInCode(ctx context.Context, opts ...CallOption) (wire.SignInCode, error) {
	return callFor[wire.SignInCode](ctx, c.conn, request{method: http.MethodPost, path: "/api/v1/auth/codes", opts: opts})
}

// BaseURL is the API address the client talks to, as parsed.
func (c *conn) BaseURL() (*url.URL, error) {
	if c.baseErr != nil {
		return nil, c.baseErr
	}
	u := *c.base
	return &u, nil
}
