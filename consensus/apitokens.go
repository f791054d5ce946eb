package consensus

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Role is what an API credential may do. Roles are ordered: each allows
// everything the ones below it allow.
type Role string

const (
	// RoleViewer reads everything and changes nothing.
	RoleViewer Role = "viewer"
	// RoleOperator also runs the work: workflows, jobs, schedules and
	// the queue.
	RoleOperator Role = "operator"
	// RoleAdmin also manages credentials and the cluster.
	RoleAdmin Role = "admin"
)

// Roles lists every role, weakest first.
var Roles = []Role{RoleViewer, RoleOperator, RoleAdmin}

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a credential of role r may do what needs role
// need.
func (r Role) Allows(need Role) bool { return r.Valid() && r.rank() >= need.rank() }

// CredentialKind says how an API credential is used.
type CredentialKind string

const (
	// KindToken is an API token, sent as "Authorization: Bearer".
	KindToken CredentialKind = "token"
	// KindSession is a browser session, sent as a cookie; it is made by
	// signing in and ends at sign-out, at its expiry, or with the token
	// it came from.
	KindSession CredentialKind = "session"
	// KindCode is a one-time sign-in code: it can be exchanged once,
	// shortly after it was made, for a session.
	KindCode CredentialKind = "code"
)

func (k CredentialKind) valid() bool { return k == KindToken || k == KindSession || k == KindCode }

// apiPrefix starts every API credential string, by kind, so that secret
// scanners and people can tell what a leaked string is.
func apiPrefix(k CredentialKind) string { return "casare_" + string(k) + "_" }

// APIToken is an API credential. Only a hash of its secret is
// replicated; the secret is shown once, when it is made.
type APIToken struct {
	ID   string         `json:"id"`
	Name string         `json:"name"`
	Role Role           `json:"role"`
	Kind CredentialKind `json:"kind"`
	Hash string         `json:"hash"`
	// Parent is the token a session or code was made from; revoking the
	// token ends them too.
	Parent    string    `json:"parent,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Revoked   bool      `json:"revoked,omitempty"`
	// UsedBy is the session a sign-in code was exchanged for.
	UsedBy string `json:"used_by,omitempty"`
}

func (t *APIToken) expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// FormatAPIToken builds the credential string a client presents.
func FormatAPIToken(kind CredentialKind, id, secret string) string {
	return apiPrefix(kind) + id + "_" + secret
}

// ParseAPIToken splits a string made by FormatAPIToken of the given kind.
// Ids hold no underscore, while secrets (base64url) may.
func ParseAPIToken(kind CredentialKind, s string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), apiPrefix(kind))
	if ok {
		id, secret, ok = strings.Cut(rest, "_")
	}
	if !ok || id == "" || secret == "" {
		return "", "", fmt.Errorf("not a Casare API %s: want %s<id>_<secret>", kind, apiPrefix(kind))
	}
	return id, secret, nil
}

// Errors of Authenticate; the API answers each with 401 and says which.
var (
	ErrUnknownCredential = errors.New("unknown credential")
	ErrRevoked           = errors.New("credential revoked")
	ErrExpired           = errors.New("credential expired")
)

// CreateAPITokenCmd stores a new API credential. The leader's clock
// starts TTL (zero: no expiry). A session or code names its Parent and
// gets the parent's name and role, and expires no later than it.
type CreateAPITokenCmd struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Role   Role           `json:"role"`
	Kind   CredentialKind `json:"kind"`
	Hash   string         `json:"hash"`
	Parent string         `json:"parent,omitempty"`
	TTL    time.Duration  `json:"ttl,omitempty"`
}

func (s accessApply) createAPIToken(c applyContext, cmd *CreateAPITokenCmd) (APIToken, error) {
	if t, ok := s.apiTokens[cmd.ID]; ok {
		return *t, nil // a retried create
	}
	if err := checkNewCredential(cmd); err != nil {
		return APIToken{}, err
	}
	t := &APIToken{ID: cmd.ID, Name: cmd.Name, Role: cmd.Role, Kind: cmd.Kind, Hash: cmd.Hash, CreatedAt: c.now}
	if cmd.TTL > 0 {
		t.ExpiresAt = c.now.Add(cmd.TTL)
	}
	if cmd.Kind != KindToken {
		parent, err := s.liveParent(cmd.Parent, c.now)
		if err != nil {
			return APIToken{}, err
		}
		t.Name, t.Role, t.Parent = parent.Name, parent.Role, parent.ID
		if !parent.ExpiresAt.IsZero() && (t.ExpiresAt.IsZero() || parent.ExpiresAt.Before(t.ExpiresAt)) {
			t.ExpiresAt = parent.ExpiresAt
		}
		s.pruneCredentials(c.now)
	}
	s.apiTokens[t.ID] = t
	return *t, nil
}

func checkNewCredential(cmd *CreateAPITokenCmd) error {
	switch {
	case cmd.ID == "" || strings.Contains(cmd.ID, "_"):
		return errorf(CodeInvalid, "credential id %q: must be non-empty without underscores", cmd.ID)
	case len(cmd.Hash) != 64:
		return errorf(CodeInvalid, "credential %s: hash is not a sha-256 hex digest", cmd.ID)
	case !cmd.Kind.valid():
		return errorf(CodeInvalid, "credential kind %q: want token, session or code", cmd.Kind)
	case cmd.TTL < 0:
		return errorf(CodeInvalid, "ttl %v is negative", cmd.TTL)
	case cmd.Kind == KindToken && !cmd.Role.Valid():
		return errorf(CodeInvalid, "role %q: want viewer, operator or admin", cmd.Role)
	case cmd.Kind == KindToken && strings.TrimSpace(cmd.Name) == "":
		return errorf(CodeInvalid, "name: a token needs a name that says who uses it")
	case cmd.Kind != KindToken && cmd.TTL == 0:
		return errorf(CodeInvalid, "a %s must expire: ttl is missing", cmd.Kind)
	}
	return nil
}

// liveParent returns the API token a session or code is made from, if it
// is still valid at now.
func (s accessApply) liveParent(id string, now time.Time) (*APIToken, error) {
	p := s.apiTokens[id]
	switch {
	case p == nil || p.Kind != KindToken:
		return nil, errorf(CodeNotFound, "API token %q not found", id)
	case p.Revoked:
		return nil, errorf(CodeInvalid, "API token %s is revoked", id)
	case p.expired(now):
		return nil, errorf(CodeInvalid, "API token %s has expired", id)
	}
	return p, nil
}

// pruneCredentials forgets sessions and codes once they have expired:
// browsers sign in every day, and their records must not pile up.
func (s accessApply) pruneCredentials(now time.Time) {
	maps.DeleteFunc(s.apiTokens, func(_ string, t *APIToken) bool {
		return t.Kind != KindToken && t.expired(now)
	})
}

// RevokeAPITokenCmd revokes an API credential; the sessions and codes
// made from a token end with it.
type RevokeAPITokenCmd struct {
	ID string `json:"id"`
}

func (s accessApply) revokeAPIToken(_ applyContext, cmd *RevokeAPITokenCmd) (APIToken, error) {
	t := s.apiTokens[cmd.ID]
	if t == nil {
		return APIToken{}, errorf(CodeNotFound, "API token %s not found", cmd.ID)
	}
	t.Revoked = true
	return *t, nil
}

// RedeemCodeCmd exchanges a one-time sign-in code for a new session. The
// code's secret hash travels in the command, so that the check and the
// single use are one atomic step on the leader.
type RedeemCodeCmd struct {
	CodeID      string        `json:"code_id"`
	CodeHash    string        `json:"code_hash"`
	SessionID   string        `json:"session_id"`
	SessionHash string        `json:"session_hash"`
	TTL         time.Duration `json:"ttl"`
}

func (s accessApply) redeemCode(c applyContext, cmd *RedeemCodeCmd) (APIToken, error) {
	code := s.apiTokens[cmd.CodeID]
	if code == nil || code.Kind != KindCode || subtle.ConstantTimeCompare([]byte(code.Hash), []byte(cmd.CodeHash)) != 1 {
		return APIToken{}, errorf(CodeInvalid, "sign-in code is unknown or has expired")
	}
	if code.UsedBy != "" {
		if code.UsedBy == cmd.SessionID { // a retried redeem
			if sess := s.apiTokens[cmd.SessionID]; sess != nil {
				return *sess, nil
			}
		}
		return APIToken{}, errorf(CodeInvalid, "sign-in code %s has already been used", code.ID)
	}
	if code.Revoked || code.expired(c.now) {
		return APIToken{}, errorf(CodeInvalid, "sign-in code %s has expired", code.ID)
	}
	if _, taken := s.apiTokens[cmd.SessionID]; taken {
		return APIToken{}, errorf(CodeInvalid, "session id %s is taken", cmd.SessionID)
	}
	sess, err := s.createAPIToken(c, &CreateAPITokenCmd{
		ID: cmd.SessionID, Kind: KindSession, Hash: cmd.SessionHash, Parent: code.Parent, TTL: cmd.TTL,
	})
	if err != nil {
		return APIToken{}, err
	}
	code.UsedBy = sess.ID
	return sess, nil
}

// Authenticate checks a presented credential of one of kinds: its id
// must be known, its secret must match the stored hash, and it and the
// token it came from must be neither revoked nor expired at now. It
// returns ErrUnknownCredential, ErrRevoked or ErrExpired otherwise.
func (s Credentials) Authenticate(id, secret string, now time.Time, kinds ...CredentialKind) (APIToken, error) {
	var out APIToken
	var err error
	hash := HashToken(secret)
	s.fsm.read(func(st *state) {
		t := st.apiTokens[id]
		if t == nil || !kindIn(t.Kind, kinds) || subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) != 1 {
			err = ErrUnknownCredential
			return
		}
		for cur := t; cur != nil; cur = st.apiTokens[cur.Parent] {
			switch {
			case cur.Revoked:
				err = fmt.Errorf("%s %s: %w", cur.Kind, cur.ID, ErrRevoked)
				return
			case cur.expired(now):
				err = fmt.Errorf("%s %s: %w", cur.Kind, cur.ID, ErrExpired)
				return
			}
		}
		out = *t
	})
	return out, err
}

func kindIn(k CredentialKind, kinds []CredentialKind) bool { return slices.Contains(kinds, k) }

// HasAPIToken reports whether a credential with id is in the local
// replica.
func (s Credentials) HasAPIToken(id string) bool {
	var ok bool
	s.fsm.read(func(st *state) { _, ok = st.apiTokens[id] })
	return ok
}

// APITokens lists the API tokens (not sessions or codes), hashes
// included, sorted by id.
func (s Credentials) APITokens() []APIToken {
	var out []APIToken
	s.fsm.read(func(st *state) {
		for _, t := range st.apiTokens {
			if t.Kind == KindToken {
				out = append(out, *t)
			}
		}
	})
	slices.SortFunc(out, func(a, b APIToken) int { return strings.Compare(a.ID, b.ID) })
	return out
}
