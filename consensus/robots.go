package consensus

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// RobotToken lets an internet robot authenticate. Only a hash of the
// secret is replicated; the secret is shown once, when it is made. A token
// may fix what the robot using it is: its name, tags and capacity override
// whatever the robot asks for.
type RobotToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // robot name it is bound to; "" = any
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the token stops working; zero = never.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Tags and Capacity, when set, are the robot's, whatever it asks for.
	Tags     []string `json:"tags,omitempty"`
	Capacity int      `json:"capacity,omitempty"`
	Revoked  bool     `json:"revoked,omitempty"`
}

// Expired reports whether the token has expired at now.
func (t RobotToken) Expired(now time.Time) bool {
	return !t.ExpiresAt.IsZero() && !now.Before(t.ExpiresAt)
}

// Usable says why a robot may not connect with the token at now, or nil.
func (t RobotToken) Usable(now time.Time) error {
	switch {
	case t.Revoked:
		return errorf(CodeInvalid, "robot token %s is revoked", t.ID)
	case t.Expired(now):
		return errorf(CodeInvalid, "robot token %s expired at %s; create a new one", t.ID, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func (t RobotToken) clone() RobotToken {
	t.Tags = slices.Clone(t.Tags)
	return t
}

// tokenPrefix starts every robot token, so that secret scanners and
// people can tell what a leaked string is.
const tokenPrefix = "casare_"

// FormatToken builds the token a robot presents: the prefix, the token
// id and the secret.
func FormatToken(id, secret string) string { return tokenPrefix + id + "_" + secret }

// fingerprintSep separates a robot token from the CA fingerprint appended
// to it: base64url secrets never hold a dot.
const fingerprintSep = "."

// FormatRobotToken builds the token `casare robot token create` prints:
// FormatToken's, then the cluster CA's fingerprint (pki.Fingerprint), so
// that the robot can verify the node it dials. An empty fingerprint
// leaves it off.
func FormatRobotToken(id, secret, caFingerprint string) string {
	if caFingerprint == "" {
		return FormatToken(id, secret)
	}
	return FormatToken(id, secret) + fingerprintSep + caFingerprint
}

// RobotTokenParts are the parts of a robot token.
type RobotTokenParts struct {
	ID, Secret string
	// CAFingerprint is the cluster CA's fingerprint; empty for a token
	// made before tokens carried one.
	CAFingerprint string
}

// ParseRobotToken splits a token made by FormatRobotToken.
func ParseRobotToken(token string) (RobotTokenParts, error) {
	token, fp, _ := strings.Cut(strings.TrimSpace(token), fingerprintSep)
	id, secret, err := ParseToken(token)
	if err != nil {
		return RobotTokenParts{}, err
	}
	return RobotTokenParts{ID: id, Secret: secret, CAFingerprint: fp}, nil
}

// ParseToken splits a token made by FormatToken or FormatRobotToken into
// its id and secret. Ids hold no underscore, while secrets (base64url)
// may.
func ParseToken(token string) (id, secret string, err error) {
	token, _, _ = strings.Cut(strings.TrimSpace(token), fingerprintSep)
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if ok {
		id, secret, ok = strings.Cut(rest, "_")
	}
	if !ok || id == "" || secret == "" {
		return "", "", errors.New("not a Casare robot token: want casare_<id>_<secret>.<CA fingerprint>")
	}
	return id, secret, nil
}

// HashToken returns the stored form of a token secret.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateTokenCmd stores a new robot token. TTL, when positive, makes it
// expire that long after the leader applies the command.
type CreateTokenCmd struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Hash     string   `json:"hash"`
	TTL      Duration `json:"ttl,omitempty"`
	Tags     []string `json:"tags,omitempty"`
	Capacity int      `json:"capacity,omitempty"`
}

func (s accessApply) createToken(c applyContext, cmd *CreateTokenCmd) (RobotToken, error) {
	switch {
	case cmd.ID == "" || len(cmd.Hash) != 64:
		return RobotToken{}, errorf(CodeInvalid, "a token needs an id and a sha-256 hash")
	case cmd.TTL < 0:
		return RobotToken{}, errorf(CodeInvalid, "ttl must not be negative")
	case cmd.Capacity < 0:
		return RobotToken{}, errorf(CodeInvalid, "capacity must not be negative")
	}
	if t, ok := s.tokens[cmd.ID]; ok {
		return t.clone(), nil
	}
	t := &RobotToken{ID: cmd.ID, Name: cmd.Name, Hash: cmd.Hash, CreatedAt: c.now,
		Tags: slices.Clone(cmd.Tags), Capacity: cmd.Capacity}
	if cmd.TTL > 0 {
		t.ExpiresAt = c.now.Add(time.Duration(cmd.TTL))
	}
	s.tokens[cmd.ID] = t
	return t.clone(), nil
}

// RevokeTokenCmd revokes a token; robots using it are refused from then on.
type RevokeTokenCmd struct {
	ID string `json:"id"`
}

func (s accessApply) revokeToken(_ applyContext, cmd *RevokeTokenCmd) (RobotToken, error) {
	t := s.tokens[cmd.ID]
	if t == nil {
		return RobotToken{}, errorf(CodeNotFound, "token %s not found", cmd.ID)
	}
	t.Revoked = true
	return t.clone(), nil
}

// RobotRecord is what the cluster knows of a robot outside gossip: an
// internet robot, connected through one node's QUIC listener.
type RobotRecord struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Node      string    `json:"node"` // the node it is connected through
	Tags      []string  `json:"tags,omitempty"`
	Capacity  int       `json:"capacity"`
	Connected bool      `json:"connected"`
	Since     time.Time `json:"since"`
}

// RobotStatusCmd records that a robot connected to or left a node.
type RobotStatusCmd struct {
	Robot RobotRecord `json:"robot"`
}

func (s accessApply) robotStatus(c applyContext, cmd *RobotStatusCmd) (struct{}, error) {
	r := cmd.Robot
	if r.ID == "" {
		return struct{}{}, errorf(CodeInvalid, "robot id is empty")
	}
	// A disconnect reported by a node the robot has already left for
	// another must not mark it disconnected.
	if old := s.robots[r.ID]; old != nil && !r.Connected && old.Node != r.Node {
		return struct{}{}, nil
	}
	r.Since = c.now
	s.robots[r.ID] = &r
	s.note(Change{Kind: ChangeRobot, RobotID: r.ID, Connected: r.Connected, Node: r.Node})
	return struct{}{}, nil
}

// RobotProfile is what a robot is in the cluster: its id (name), tags
// and capacity.
type RobotProfile struct {
	Name     string
	Tags     []string
	Capacity int
}

// AuthorizeRobot decides whether a robot presenting token id (whose
// secret the transport has already checked against the hash) may connect
// at now, and returns what it is: what it asked for, overridden by what
// the token fixes (name, tags, capacity).
func (s Credentials) AuthorizeRobot(tokenID string, ask RobotProfile, now time.Time) (RobotProfile, error) {
	t, ok := s.Token(tokenID)
	if !ok {
		return RobotProfile{}, errorf(CodeInvalid, "unknown robot token %s", tokenID)
	}
	if err := t.Usable(now); err != nil {
		return RobotProfile{}, err
	}
	got := RobotProfile{Name: cmp.Or(t.Name, ask.Name), Tags: slices.Clone(ask.Tags), Capacity: cmp.Or(t.Capacity, ask.Capacity)}
	if len(t.Tags) > 0 {
		got.Tags = slices.Clone(t.Tags)
	}
	if got.Name == "" {
		return RobotProfile{}, errorf(CodeInvalid, "robot name missing: give --name (token %s is not bound to one)", t.ID)
	}
	if owner := s.tokenBoundTo(got.Name, now); owner != "" && owner != t.ID {
		return RobotProfile{}, errorf(CodeInvalid, "robot name %q belongs to token %s; token %s cannot use it", got.Name, owner, t.ID)
	}
	return got, nil
}

// tokenBoundTo returns the id of a live token bound to robot name, if any.
func (s Credentials) tokenBoundTo(name string, now time.Time) string {
	var id string
	s.fsm.read(func(st *state) {
		for _, t := range st.tokens {
			if t.Name == name && t.Usable(now) == nil && (id == "" || t.ID < id) {
				id = t.ID
			}
		}
	})
	return id
}

// Tokens lists robot tokens (hashes only), sorted by id.
func (s Credentials) Tokens() []RobotToken {
	var out []RobotToken
	s.fsm.read(func(st *state) {
		for _, t := range st.tokens {
			out = append(out, t.clone())
		}
	})
	slices.SortFunc(out, func(a, b RobotToken) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Robots lists the robots recorded through Raft, sorted by id.
func (s RobotQueue) Robots() []RobotRecord {
	var out []RobotRecord
	s.fsm.read(func(st *state) {
		for _, r := range st.robots {
			c := *r
			c.Tags = slices.Clone(r.Tags)
			out = append(out, c)
		}
	})
	slices.SortFunc(out, func(a, b RobotRecord) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Token returns a robot token by id.
func (s Credentials) Token(id string) (RobotToken, bool) {
	var t RobotToken
	var ok bool
	s.fsm.read(func(st *state) {
		if v := st.tokens[id]; v != nil {
			t, ok = v.clone(), true
		}
	})
	return t, ok
}
