package wire

import "time"

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	Name string `json:"name"`
	// Role is viewer, operator or admin.
	Role string `json:"role"`
	// TTL is a duration such as "720h"; empty means the token does not
	// expire.
	TTL string `json:"ttl,omitempty"`
}

// APIToken is an API token as listed: never its secret or hash.
type APIToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Revoked   bool      `json:"revoked"`
}

// CreatedAPIToken answers POST /api/v1/tokens. Token is shown this once;
// only its hash is stored.
type CreatedAPIToken struct {
	APIToken
	Token string `json:"token"`
}

// APITokenList answers GET /api/v1/tokens.
type APITokenList struct {
	Tokens       []APIToken `json:"tokens"`
	AppliedIndex uint64     `json:"applied_index"`
}

// SignInRequest is the body of POST /api/v1/auth/signin: exactly one of
// an API token or a one-time sign-in code.
type SignInRequest struct {
	Token string `json:"token,omitempty"`
	Code  string `json:"code,omitempty"`
}

// WhoAmI says who a credential belongs to and what it may do; a signed-in
// page uses it to hide what its role may not do.
type WhoAmI struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Kind is "token" for a bearer token, "session" for a signed-in
	// browser.
	Kind string `json:"kind"`
	// TokenID is the API token the credential is or came from.
	TokenID   string    `json:"token_id"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// SignInCode answers POST /api/v1/auth/codes: a one-time code that signs
// a browser in with the caller's name and role, once, until ExpiresAt.
type SignInCode struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
	// Path is the web app's sign-in page with the code, to append to
	// the node's address.
	Path string `json:"path"`
}
