package tunnel

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/quic-go/quic-go"
)

// Hello is what a robot says about itself when it connects. The node hands
// it to ServerConfig.Authenticate only after the token checked out.
type Hello struct {
	TokenID  string   `json:"token_id"`
	Name     string   `json:"name"`
	Tags     []string `json:"tags,omitempty"`
	Capacity int      `json:"capacity"`
	Version  string   `json:"version"`
}

// Identity is an authenticated robot as the node sees it. The node's
// Authenticate callback chooses RobotID, Tags and Capacity; the tunnel fills
// in TokenID and RemoteAddr (the robot's address as the node saw it, which
// behind NAT is the router's). Both ends of a connection hold the same
// value.
type Identity struct {
	RobotID    string   `json:"robot_id"`
	TokenID    string   `json:"token_id"`
	Tags       []string `json:"tags,omitempty"`
	Capacity   int      `json:"capacity"`
	RemoteAddr string   `json:"remote_addr"`
}

func (id Identity) clone() Identity {
	id.Tags = slices.Clone(id.Tags)
	return id
}

// HashSecret returns sha256(secret), the only form of a token secret the
// cluster stores and what ServerConfig.TokenHash must return.
func HashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// exporterLabel names the TLS exporter secret the token proof is bound to.
const exporterLabel = "EXPORTER-casare-robot-auth"

// Handshake message names, in the order they are sent.
const (
	methodHello  = "hello"  // robot → node: Hello
	methodSecret = "secret" // robot → node, after the proof verified
)

type proofMessage struct {
	Proof []byte `json:"proof"`
}

type secretMessage struct {
	Secret string `json:"secret"`
}

// sessionKey returns the keying material both ends of qc, and only they,
// derive from its TLS session.
func sessionKey(qc *quic.Conn) ([]byte, error) {
	state := qc.ConnectionState().TLS
	key, err := state.ExportKeyingMaterial(exporterLabel, nil, sha256.Size)
	if err != nil {
		return nil, fmt.Errorf("export TLS keying material: %w", err)
	}
	return key, nil
}

// tokenProof is what a node sends to prove that it knows a token's hash,
// bound to one TLS session by that session's keying material.
func tokenProof(tokenHash, sessionKey []byte) []byte {
	mac := hmac.New(sha256.New, tokenHash)
	mac.Write(sessionKey)
	return mac.Sum(nil)
}

// verifyTokenProof reports whether proof came from a holder of tokenHash
// on the TLS session that sessionKey was exported from.
func verifyTokenProof(tokenHash, sessionKey, proof []byte) bool {
	return hmac.Equal(tokenProof(tokenHash, sessionKey), proof)
}

func secretMatches(secret string, tokenHash []byte) bool {
	return subtle.ConstantTimeCompare(HashSecret(secret), tokenHash) == 1
}

// abortStream resets both directions of str so that blocked reads and
// writes on either side return.
func abortStream(str *quic.Stream) {
	str.CancelRead(streamCanceled)
	str.CancelWrite(streamCanceled)
}

// acceptRobot runs the node's side of the handshake on the first stream the
// robot opens, up to but not including the welcome. It returns the robot's
// Hello (as far as it was read) and, on success, its Identity and the
// stream to welcome it on. A refusal is a *closeError; other errors are
// for handshakeFailure to explain.
func (s *Server) acceptRobot(ctx context.Context, qc *quic.Conn) (Hello, Identity, *quic.Stream, error) {
	var hello Hello
	str, err := qc.AcceptStream(ctx)
	if err != nil {
		return hello, Identity{}, nil, err
	}
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()

	if err := receiveMessage(str, methodHello, &hello); err != nil {
		return hello, Identity{}, nil, err
	}
	if hello.TokenID == "" {
		return hello, Identity{}, nil, refusal("missing token id")
	}
	hash, ok := s.cfg.TokenHash(hello.TokenID)
	if !ok {
		return hello, Identity{}, nil, refusal(fmt.Sprintf("unknown token id %q", hello.TokenID))
	}
	key, err := sessionKey(qc)
	if err != nil {
		return hello, Identity{}, nil, err
	}
	if err := sendMessage(str, "", proofMessage{Proof: tokenProof(hash, key)}); err != nil {
		return hello, Identity{}, nil, err
	}

	var secret secretMessage
	err = receiveMessage(str, methodSecret, &secret)
	if err == nil {
		err = expectEnd(str)
	}
	if err != nil {
		return hello, Identity{}, nil, err
	}
	if !secretMatches(secret.Secret, hash) {
		return hello, Identity{}, nil, refusal("wrong token secret")
	}

	identity, err := s.cfg.Authenticate(ctx, hello)
	if err != nil {
		return hello, Identity{}, nil, refusal(err.Error())
	}
	identity.TokenID = hello.TokenID
	identity.RemoteAddr = qc.RemoteAddr().String()
	return hello, identity, str, nil
}

// welcome completes the handshake by telling the robot its identity.
func welcome(ctx context.Context, str *quic.Stream, identity Identity) error {
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()
	if err := sendMessage(str, "", identity); err != nil {
		return err
	}
	return str.Close()
}

// maxReasonBytes keeps a refusal reason well inside one QUIC packet.
const maxReasonBytes = 512

// refusal turns a reason to refuse a robot into the error that closes its
// connection and tells it why.
func refusal(reason string) *closeError {
	if len(reason) > maxReasonBytes {
		reason = strings.ToValidUTF8(reason[:maxReasonBytes], "")
	}
	return &closeError{code: codeAuthRefused, reason: reason}
}

// handshakeFailure explains what ended the node's handshake with a robot,
// as the code and reason to close the connection with.
func (s *Server) handshakeFailure(ctx context.Context, err error) *closeError {
	if ce, ok := errors.AsType[*closeError](err); ok {
		return ce
	}
	if appErr, ok := remoteClose(err); ok && appErr.ErrorCode == codeProofRejected {
		return &closeError{
			code:   codeProofRejected,
			reason: "robot rejected this node's token proof (wrong secret on the robot, or a relay in between)",
		}
	}
	switch {
	case s.ctx.Err() != nil:
		return &closeError{code: codeShuttingDown, reason: "node shutting down"}
	case ctx.Err() != nil:
		return &closeError{code: codeHandshakeFailed, reason: "handshake timed out", err: ctx.Err()}
	}
	return &closeError{code: codeHandshakeFailed, reason: "handshake failed", err: err}
}

// proveRobot runs the robot's side of the handshake on a new stream and
// returns the Identity the node assigned.
func proveRobot(ctx context.Context, qc *quic.Conn, hello Hello, secret string) (Identity, error) {
	str, err := qc.OpenStreamSync(ctx)
	if err != nil {
		return Identity{}, err
	}
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()

	if err := sendMessage(str, methodHello, hello); err != nil {
		return Identity{}, err
	}
	var proof proofMessage
	if err := receiveMessage(str, "", &proof); err != nil {
		return Identity{}, err
	}
	key, err := sessionKey(qc)
	if err != nil {
		return Identity{}, err
	}
	if !verifyTokenProof(HashSecret(secret), key, proof.Proof) {
		return Identity{}, fmt.Errorf("%w: the token secret is wrong, or the peer is not a node of this cluster", ErrServerProof)
	}
	if err := sendMessage(str, methodSecret, secretMessage{Secret: secret}); err != nil {
		return Identity{}, err
	}
	if err := str.Close(); err != nil {
		return Identity{}, err
	}
	var identity Identity
	if err := receiveMessage(str, "", &identity); err != nil {
		return Identity{}, err
	}
	if err := expectEnd(str); err != nil {
		return Identity{}, err
	}
	return identity, nil
}
