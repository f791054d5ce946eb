package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/casare/casare/api/wire"
)

// SetSecret creates a secret or gives it a new version. The value is
// sent once, in the body, and never comes back.
func (c secretService) SetSecret(ctx context.Context, name string, req wire.PutSecretRequest, opts ...CallOption) (wire.Secret, error) {
	return sendJSON[wire.Secret](ctx, c.conn, http.MethodPut, secretPath(name), req, opts...)
}

// Secrets lists the vault's secrets: metadata only.
func (c secretService) Secrets(ctx context.Context, opts ...CallOption) (wire.SecretList, error) {
	return callFor[wire.SecretList](ctx, c.conn, request{method: http.MethodGet, path: "/api/v1/secrets", opts: opts})
}

// Secret returns one secret's metadata.
func (c secretService) Secret(ctx context.Context, name string, opts ...CallOption) (wire.Secret, error) {
	return callFor[wire.Secret](ctx, c.conn, request{method: http.MethodGet, path: secretPath(name), opts: opts})
}

// DeleteSecret removes a secret; jobs that need it fail from then on.
func (c secretService) DeleteSecret(ctx context.Context, name string, opts ...CallOption) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: secretPath(name), opts: opts})
	return err
}

// RotateVaultKey re-encrypts every secret under a new vault key, which
// reaches every server first; the old key is retired afterwards.
func (c secretService) RotateVaultKey(ctx context.Context, opts ...CallOption) (wire.RotateVaultKeyResponse, error) {
	return sendJSON[wire.RotateVaultKeyResponse](ctx, c.conn, http.MethodPost, "/api/v1/secrets/rotate-key", struct{}{}, opts...)
}

func secretPath(name string) string { return "/api/v1/secrets/" + url.PathEscape(name) }

// OAuthConnect starts connecting an OAuth account: the answer holds the
// provider's consent URL; once the person consents, the node stores the
// refresh token as secret name.
func (c secretService) OAuthConnect(ctx context.Context, name string, req wire.OAuthConnectRequest, opts ...CallOption) (wire.OAuthConnectResponse, error) {
	return sendJSON[wire.OAuthConnectResponse](ctx, c.conn, http.MethodPost, secretPath(name)+"/oauth-connect", req, opts...)
}
