package consensus

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func tokenCmd(id string, kind CredentialKind, parent string, ttl time.Duration) CreateAPITokenCmd {
	return CreateAPITokenCmd{ID: id, Name: "ci", Role: RoleOperator, Kind: kind, Hash: HashToken("secret-" + id), Parent: parent, TTL: ttl}
}

// TestSessionsLiveNoLongerThanTheirToken: a session takes its token's
// name and role, expires no later than it, and ends when the token is
// revoked; none can be made from a revoked token.
func TestSessionsLiveNoLongerThanTheirToken(t *testing.T) {
	h := newHarness(t)
	store := newStore(Config{}, nil, h.f)
	tok := h.mustApply(cmdCreateAPIToken, tokenCmd("t1", KindToken, "", time.Hour)).(APIToken)
	sess := h.mustApply(cmdCreateAPIToken, CreateAPITokenCmd{ID: "s1", Kind: KindSession, Hash: HashToken("secret-s1"), Parent: "t1", TTL: 12 * time.Hour}).(APIToken)
	if sess.Role != RoleOperator || sess.Name != "ci" || !sess.ExpiresAt.Equal(tok.ExpiresAt) {
		t.Fatalf("session %+v of token %+v", sess, tok)
	}
	if _, err := store.Authenticate("s1", "secret-s1", h.now, KindSession); err != nil {
		t.Fatalf("fresh session: %v", err)
	}
	if _, err := store.Authenticate("s1", "secret-s1", h.now, KindToken); !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("a session presented as a bearer token: %v", err)
	}
	if _, err := store.Authenticate("t1", "wrong", h.now, KindToken); !errors.Is(err, ErrUnknownCredential) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, err := store.Authenticate("t1", "secret-t1", h.now.Add(time.Hour), KindToken); !errors.Is(err, ErrExpired) {
		t.Fatalf("token past its ttl: %v", err)
	}
	h.mustApply(cmdRevokeAPIToken, RevokeAPITokenCmd{ID: "t1"})
	if _, err := store.Authenticate("s1", "secret-s1", h.now, KindSession); !errors.Is(err, ErrRevoked) {
		t.Fatalf("session of a revoked token: %v", err)
	}
	if _, err := h.apply(cmdCreateAPIToken, CreateAPITokenCmd{ID: "s2", Kind: KindSession, Hash: HashToken("x"), Parent: "t1", TTL: time.Hour}); ErrorCode(err) != CodeInvalid {
		t.Fatalf("session from a revoked token: %v", err)
	}
}

// TestSignInCodeRedeemsOnce: a code gives one session; the same redeem
// retried (same session id) answers the same session; any other use, or
// one after the code expired, is refused.
func TestSignInCodeRedeemsOnce(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdCreateAPIToken, tokenCmd("t1", KindToken, "", 0))
	h.mustApply(cmdCreateAPIToken, tokenCmd("c1", KindCode, "t1", 5*time.Minute))
	redeem := RedeemCodeCmd{CodeID: "c1", CodeHash: HashToken("secret-c1"), SessionID: "s1", SessionHash: HashToken("s"), TTL: time.Hour}
	first := h.mustApply(cmdRedeemCode, redeem).(APIToken)
	if again := h.mustApply(cmdRedeemCode, redeem).(APIToken); again.ID != first.ID || first.Kind != KindSession {
		t.Fatalf("retried redeem: %+v, first %+v", again, first)
	}
	other := redeem
	other.SessionID = "s2"
	if _, err := h.apply(cmdRedeemCode, other); ErrorCode(err) != CodeInvalid {
		t.Fatalf("second use: %v", err)
	}
	h.mustApply(cmdCreateAPIToken, tokenCmd("c2", KindCode, "t1", 5*time.Minute))
	h.now = h.now.Add(5 * time.Minute)
	late := RedeemCodeCmd{CodeID: "c2", CodeHash: HashToken("secret-c2"), SessionID: "s3", SessionHash: HashToken("s"), TTL: time.Hour}
	if _, err := h.apply(cmdRedeemCode, late); ErrorCode(err) != CodeInvalid {
		t.Fatalf("expired code: %v", err)
	}
	h.mustApply(cmdCreateAPIToken, tokenCmd("c3", KindCode, "t1", 5*time.Minute))
	steal := RedeemCodeCmd{CodeID: "c3", CodeHash: HashToken("secret-c3"), SessionID: "t1", SessionHash: HashToken("s"), TTL: time.Hour}
	if _, err := h.apply(cmdRedeemCode, steal); ErrorCode(err) != CodeInvalid || h.f.state.apiTokens["c3"].UsedBy != "" {
		t.Fatalf("redeem into the id of an existing token: %v", err)
	}
	wrong := RedeemCodeCmd{CodeID: "c1", CodeHash: HashToken("guess"), SessionID: "s4", SessionHash: HashToken("s"), TTL: time.Hour}
	if _, err := h.apply(cmdRedeemCode, wrong); ErrorCode(err) != CodeInvalid {
		t.Fatalf("wrong code secret: %v", err)
	}
}

// TestExpiredSessionsAreForgotten: sessions and codes past their expiry
// leave the state when the next one is made (browsers sign in daily);
// tokens stay, and all of it survives a snapshot.
func TestExpiredSessionsAreForgotten(t *testing.T) {
	h := newHarness(t)
	h.mustApply(cmdCreateAPIToken, tokenCmd("t1", KindToken, "", 0))
	h.mustApply(cmdCreateAPIToken, tokenCmd("s1", KindSession, "t1", time.Minute))
	h.now = h.now.Add(2 * time.Minute)
	h.mustApply(cmdCreateAPIToken, tokenCmd("s2", KindSession, "t1", time.Minute))
	if _, ok := h.f.state.apiTokens["s1"]; ok {
		t.Fatal("an expired session was kept")
	}
	if _, ok := h.f.state.apiTokens["t1"]; !ok {
		t.Fatal("the token was forgotten")
	}
	restored := newFSM()
	if err := restored.Restore(io.NopCloser(bytes.NewReader(snapshotBytes(t, h.f)))); err != nil {
		t.Fatal(err)
	}
	if len(restored.state.apiTokens) != 2 || restored.state.apiTokens["s2"].Parent != "t1" {
		t.Fatalf("credentials after a snapshot: %+v", restored.state.apiTokens)
	}
}

// TestCredentialInputIsChecked: a token needs a role, a name and a
// sha-256 hash; sessions and codes must expire.
func TestCredentialInputIsChecked(t *testing.T) {
	h := newHarness(t)
	for _, cmd := range []CreateAPITokenCmd{
		{ID: "a", Name: "n", Role: "root", Kind: KindToken, Hash: HashToken("x")},
		{ID: "b", Role: RoleViewer, Kind: KindToken, Hash: HashToken("x")},
		{ID: "c", Name: "n", Role: RoleViewer, Kind: KindToken, Hash: "short"},
		{ID: "d_e", Name: "n", Role: RoleViewer, Kind: KindToken, Hash: HashToken("x")},
		{ID: "f", Kind: KindSession, Hash: HashToken("x"), Parent: "none"},
		{ID: "g", Name: "n", Role: RoleViewer, Kind: "cookie", Hash: HashToken("x")},
	} {
		if _, err := h.apply(cmdCreateAPIToken, cmd); ErrorCode(err) != CodeInvalid {
			t.Errorf("%+v: %v, want invalid", cmd, err)
		}
	}
	if len(h.f.state.apiTokens) != 0 {
		t.Fatalf("refused credentials were stored: %v", h.f.state.apiTokens)
	}
}

// BenchmarkAuthenticate is the credential check every API request pays:
// a SHA-256 of the secret, a map lookup under the read lock, and the
// parent chain's revocation and expiry.
func BenchmarkAuthenticate(b *testing.B) {
	h := newHarness(b)
	store := newStore(Config{}, nil, h.f)
	h.mustApply(cmdCreateAPIToken, tokenCmd("t1", KindToken, "", 0))
	h.mustApply(cmdCreateAPIToken, tokenCmd("s1", KindSession, "t1", time.Hour))
	for _, tc := range []struct{ name, id string }{{"token", "t1"}, {"session", "s1"}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := store.Authenticate(tc.id, "secret-"+tc.id, h.now, KindToken, KindSession); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
