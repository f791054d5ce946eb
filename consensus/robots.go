package consensus

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"
)

// RobotToken lets an internet robot authenticate. Only a hash of the
// secret is replicated; the secret is shown once, when it is made.
type RobotToken struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"` // robot name it is bound to; "" = any
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// tokenPrefix starts every robot token, so that secret scanners and
// people can tell what a leaked string is.
const tokenPrefix = "casare_"

// FormatToken builds the token a robot presents: the prefix, the token
// id and the secret.
func FormatToken(id, secret string) string { return tokenPrefix + id + "_" + secret }

// ParseToken splits a token made by FormatToken. Ids hold no underscore,
// while secrets (base64url) may.
func ParseToken(token string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(token), tokenPrefix)
	if ok {
		id, secret, ok = strings.Cut(rest, "_")
	}
	if !ok || id == "" || secret == "" {
		return "", "", errors.New("not a Casare robot token: want casare_<id>_<secret>")
	}
	return id, secret, nil
}

// HashToken returns the stored form of a token secret.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateTokenCmd stores a new robot token.
type CreateTokenCmd struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Hash string `json:"hash"`
}

func (s *state) createToken(c applyContext, cmd *CreateTokenCmd) (RobotToken, error) {
	if cmd.ID == "" || len(cmd.Hash) != 64 {
		return RobotToken{}, errorf(CodeInvalid, "a token needs an id and a sha-256 hash")
	}
	if t, ok := s.tokens[cmd.ID]; ok {
		return *t, nil
	}
	t := &RobotToken{ID: cmd.ID, Name: cmd.Name, Hash: cmd.Hash, CreatedAt: c.now}
	s.tokens[cmd.ID] = t
	return *t, nil
}

// RevokeTokenCmd revokes a token; robots using it are refused from then on.
type RevokeTokenCmd struct {
	ID string `json:"id"`
}

func (s *state) revokeToken(_ applyContext, cmd *RevokeTokenCmd) (RobotToken, error) {
	t := s.tokens[cmd.ID]
	if t == nil {
		return RobotToken{}, errorf(CodeNotFound, "token %s not found", cmd.ID)
	}
	t.Revoked = true
	return *t, nil
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

func (s *state) robotStatus(c applyContext, cmd *RobotStatusCmd) (struct{}, error) {
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

// AuthorizeRobot decides whether a robot presenting token id (whose
// secret the transport has already checked against the hash) may connect
// as name, and returns the robot id it gets: name, or the name the token
// is bound to.
func (s *Store) AuthorizeRobot(tokenID, name string) (string, error) {
	t, ok := s.Token(tokenID)
	switch {
	case !ok:
		return "", errorf(CodeInvalid, "unknown robot token %s", tokenID)
	case t.Revoked:
		return "", errorf(CodeInvalid, "robot token %s is revoked", t.ID)
	case t.Name != "" && name != "" && name != t.Name:
		return "", errorf(CodeInvalid, "robot token %s is for robot %q, not %q", t.ID, t.Name, name)
	}
	if name == "" {
		name = t.Name
	}
	if name == "" {
		return "", errorf(CodeInvalid, "robot name missing: give --name (token %s is not bound to one)", t.ID)
	}
	if owner := s.tokenBoundTo(name); owner != "" && owner != t.ID {
		return "", errorf(CodeInvalid, "robot name %q belongs to token %s; token %s cannot use it", name, owner, t.ID)
	}
	return name, nil
}

// tokenBoundTo returns the id of a live token bound to robot name, if any.
func (s *Store) tokenBoundTo(name string) string {
	var id string
	s.fsm.read(func(st *state) {
		for _, t := range st.tokens {
			if t.Name == name && !t.Revoked && (id == "" || t.ID < id) {
				id = t.ID
			}
		}
	})
	return id
}

// Tokens lists robot tokens (hashes only), sorted by id.
func (s *Store) Tokens() []RobotToken {
	var out []RobotToken
	s.fsm.read(func(st *state) {
		for _, t := range st.tokens {
			out = append(out, *t)
		}
	})
	slices.SortFunc(out, func(a, b RobotToken) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Robots lists the robots recorded through Raft, sorted by id.
func (s *Store) Robots() []RobotRecord {
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
func (s *Store) Token(id string) (RobotToken, bool) {
	var t RobotToken
	var ok bool
	s.fsm.read(func(st *state) {
		if v := st.tokens[id]; v != nil {
			t, ok = *v, true
		}
	})
	return t, ok
}
