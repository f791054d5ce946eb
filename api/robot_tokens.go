package api

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// robotSecretBytes is the entropy of a token secret.
const robotSecretBytes = 32

func newRobotSecret() (string, error) {
	b := make([]byte, robotSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate robot token secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// createRobotToken makes a token and shows it once: only the hash of its
// secret is replicated.
func (s robotsAPI) createRobotToken(c *gin.Context) {
	var req CreateRobotTokenRequest
	if !s.bindOptionalJSON(c, &req) {
		return
	}
	cmd, err := robotTokenCmd(req)
	if err != nil {
		s.abort(c, err)
		return
	}
	key, err := idempotencyKey(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.abort(c, err)
		return
	}
	id, err := newID(key, "robot-token")
	if err != nil {
		s.abort(c, err)
		return
	}
	secret, err := newRobotSecret()
	if err != nil {
		s.abort(c, err)
		return
	}
	cmd.ID, cmd.Hash = id, consensus.HashToken(secret)
	token, err := s.cfg.Store.CreateToken(c.Request.Context(), cmd)
	if err != nil {
		s.abort(c, err)
		return
	}
	if token.Hash != cmd.Hash {
		// A retry under the same key: the first secret was shown once
		// and cannot be shown again.
		s.abort(c, newError(consensus.CodeConflict,
			"robot token %s was already created with this Idempotency-Key and its secret shown then; revoke it and create a new one", id))
		return
	}
	c.JSON(http.StatusCreated, CreatedRobotToken{
		ID: token.ID, Name: token.Name, Token: consensus.FormatRobotToken(token.ID, secret, s.cfg.CAFingerprint), CreatedAt: token.CreatedAt,
		ExpiresAt: token.ExpiresAt, Tags: token.Tags, Capacity: token.Capacity,
	})
}

// maxRobotCapacity bounds the capacity a token may fix: a robot runs each
// job in its own goroutines and browser, and no PC runs a thousand.
const maxRobotCapacity = 1000

// robotTokenCmd checks what a new token fixes, naming the bad field.
func robotTokenCmd(req CreateRobotTokenRequest) (consensus.CreateTokenCmd, error) {
	if err := checkRobotName(req.Name); err != nil {
		return consensus.CreateTokenCmd{}, err
	}
	if err := checkNames("tags", req.Tags); err != nil {
		return consensus.CreateTokenCmd{}, err
	}
	ttl, err := parseDuration("ttl", req.TTL)
	if err != nil {
		return consensus.CreateTokenCmd{}, err
	}
	if req.TTL != "" && ttl == 0 {
		return consensus.CreateTokenCmd{}, invalidField("ttl", "must be positive; leave it out for a token that does not expire")
	}
	if req.Capacity < 0 || req.Capacity > maxRobotCapacity {
		return consensus.CreateTokenCmd{}, invalidField("capacity", "must be between 1 and %d, or left out to let the robot choose", maxRobotCapacity)
	}
	return consensus.CreateTokenCmd{Name: req.Name, TTL: consensus.Duration(ttl), Tags: req.Tags, Capacity: req.Capacity}, nil
}

func checkRobotName(name string) error {
	switch {
	case len(name) > maxNameLen:
		return invalidField("name", "is longer than %d bytes", maxNameLen)
	case strings.TrimSpace(name) != name:
		return invalidField("name", "must not start or end with white space")
	}
	return checkName("name", name)
}

func (s robotsAPI) listRobotTokens(c *gin.Context) {
	index := s.cfg.Store.AppliedIndex()
	setAppliedIndex(c, index)
	tokens := s.cfg.Store.Tokens()
	out := make([]RobotToken, len(tokens))
	for i, t := range tokens {
		out[i] = robotTokenView(t)
	}
	c.JSON(http.StatusOK, RobotTokenList{Tokens: out, AppliedIndex: index})
}

func (s robotsAPI) revokeRobotToken(c *gin.Context) {
	token, err := s.cfg.Store.RevokeToken(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.abort(c, err)
		return
	}
	c.JSON(http.StatusOK, robotTokenView(token))
}
