package wire

import "time"

// PutSecretRequest is the body of PUT /api/v1/secrets/{name}. Value is
// the secret in clear; it is sealed before it is replicated and never
// returned by any endpoint.
type PutSecretRequest struct {
	Value string `json:"value"`
	// AllowedWorkflows limits the secret to these workflows, by id or
	// name; empty lets any workflow use it.
	AllowedWorkflows []string `json:"allowed_workflows,omitempty"`
}

// Secret is a secret's metadata. There is no value field: the API never
// returns a value.
type Secret struct {
	Name             string    `json:"name"`
	Version          int       `json:"version"`
	AllowedWorkflows []string  `json:"allowed_workflows"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	UpdatedBy        string    `json:"updated_by,omitempty"`
}

// SecretList is the body of GET /api/v1/secrets.
type SecretList struct {
	Secrets      []Secret `json:"secrets"`
	AppliedIndex uint64   `json:"applied_index"`
}

// RotateVaultKeyResponse answers POST /api/v1/secrets/rotate-key.
type RotateVaultKeyResponse struct {
	// Rotated counts the secrets re-encrypted under the new key.
	Rotated int `json:"rotated"`
	// Stale lists secrets set during the rotation; run it again.
	Stale []string `json:"stale,omitempty"`
}

// OAuthConnectRequest is the body of POST
// /api/v1/secrets/{name}/oauth-connect: connect an OAuth account once and
// keep its refresh token as the secret.
type OAuthConnectRequest struct {
	AuthURL  string `json:"auth_url"`
	TokenURL string `json:"token_url"`
	ClientID string `json:"client_id"`
	// ClientSecretFrom names the vault secret holding the client secret;
	// empty for a public client (PKCE alone).
	ClientSecretFrom string   `json:"client_secret_from,omitempty"`
	Scopes           []string `json:"scopes,omitempty"`
	// RedirectURL is where the provider sends the browser back; default
	// this node's /oauth/callback as the request addressed it.
	RedirectURL      string   `json:"redirect_url,omitempty"`
	AllowedWorkflows []string `json:"allowed_workflows,omitempty"`
}

// OAuthConnectResponse says where to send the person who consents.
type OAuthConnectResponse struct {
	ConsentURL  string    `json:"consent_url"`
	RedirectURL string    `json:"redirect_url"`
	ExpiresAt   time.Time `json:"expires_at"`
}
