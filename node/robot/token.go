package robot

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh/tunnel"
	"github.com/casare/casare/pki"
)

// errNoFingerprint says why a token without a CA fingerprint is refused.
var errNoFingerprint = errors.New("the robot token carries no cluster CA fingerprint, so the nodes it dials cannot be verified; " +
	"create a new one with 'casare robot token create'")

// NewTokenQueue returns the queue of an internet robot holding token
// (as `casare robot token create` printed it): it dials addrs, accepts
// only nodes whose certificate comes from the cluster CA the token names,
// and then presents the token. hello says what the robot asks to be;
// the token may fix its name, tags and capacity.
func NewTokenQueue(addrs []string, token string, hello tunnel.Hello, logger *slog.Logger) (*TunnelQueue, error) {
	parts, err := consensus.ParseRobotToken(token)
	if err != nil {
		return nil, err
	}
	if err := checkFingerprint(parts.CAFingerprint); err != nil {
		return nil, err
	}
	hello.TokenID = parts.ID
	return NewTunnelQueue(addrs, tunnel.ClientConfig{
		Hello: hello, TokenSecret: parts.Secret, TLS: pki.PinnedClientConfig(parts.CAFingerprint), Logger: logger,
	}), nil
}

// checkFingerprint refuses a CA fingerprint that is not "sha256:" and 64
// hex digits.
func checkFingerprint(fp string) error {
	if fp == "" {
		return errNoFingerprint
	}
	digest, ok := strings.CutPrefix(fp, "sha256:")
	if _, err := hex.DecodeString(digest); !ok || err != nil || len(digest) != 64 {
		return fmt.Errorf("the robot token's CA fingerprint %q is not sha256:<64 hex digits>; copy the whole token", fp)
	}
	return nil
}
