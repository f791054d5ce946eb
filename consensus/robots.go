package consensus

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
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
	return struct{}{}, nil
}

// VerifyToken checks a robot's secret against the replicated hashes and
// returns the token when it is valid for robot name.
func (s *Store) VerifyToken(secret, name string) (RobotToken, error) {
	hash := HashToken(secret)
	var found *RobotToken
	s.fsm.read(func(st *state) {
		for _, t := range st.tokens {
			if subtle.ConstantTimeCompare([]byte(t.Hash), []byte(hash)) == 1 {
				c := *t
				found = &c
			}
		}
	})
	switch {
	case found == nil:
		return RobotToken{}, errorf(CodeInvalid, "unknown robot token")
	case found.Revoked:
		return RobotToken{}, errorf(CodeInvalid, "robot token %s is revoked", found.ID)
	case found.Name != "" && name != "" && found.Name != name:
		return RobotToken{}, errorf(CodeInvalid, "robot token %s is for robot %q, not %q", found.ID, found.Name, name)
	}
	return *found, nil
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
