package tunnel

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
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

// methodHello names the one handshake message: robot → node, the Hello
// and the token secret, sent once the robot has verified the node's
// certificate.
const methodHello = "hello"

type helloMessage struct {
	Hello
	Secret string `json:"secret"`
}

// refusedToken is the one answer to a token whose id is unknown or whose
// secret is wrong: a stranger must not learn which token ids exist.
const refusedToken = "robot token refused: unknown token id or wrong secret"

// decoyHash is compared against when the token id is unknown, so that an
// unknown id costs the same work as a wrong secret.
var decoyHash = HashSecret("casare: no such robot token")

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
	var msg helloMessage
	str, err := qc.AcceptStream(ctx)
	if err != nil {
		return msg.Hello, Identity{}, nil, err
	}
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()

	err = receiveMessage(str, methodHello, &msg)
	if err == nil {
		err = expectEnd(str)
	}
	if err != nil {
		return msg.Hello, Identity{}, nil, err
	}
	if msg.TokenID == "" || msg.Secret == "" {
		return msg.Hello, Identity{}, nil, refusal("missing robot token")
	}
	if !s.tokenValid(ctx, msg.TokenID, msg.Secret) {
		return msg.Hello, Identity{}, nil, refusal(refusedToken)
	}
	identity, err := s.cfg.Authenticate(ctx, msg.Hello)
	if err != nil {
		return msg.Hello, Identity{}, nil, refusal(err.Error())
	}
	identity.TokenID = msg.TokenID
	identity.RemoteAddr = qc.RemoteAddr().String()
	return msg.Hello, identity, str, nil
}

// tokenValid reports whether secret is the secret of token id. An unknown
// id and a wrong secret take the same path: the decoy comparison, then
// CatchUp and a second look, whichever of the two it was.
func (s *Server) tokenValid(ctx context.Context, id, secret string) bool {
	if s.checkToken(id, secret) {
		return true
	}
	if s.cfg.CatchUp == nil || s.cfg.CatchUp(ctx) != nil {
		return false
	}
	return s.checkToken(id, secret)
}

func (s *Server) checkToken(id, secret string) bool {
	hash, ok := s.cfg.TokenHash(id)
	if !ok {
		hash = decoyHash
	}
	return secretMatches(secret, hash) && ok
}

// welcomeMessage is the node's answer to a Hello: the robot's Identity,
// and whether the node serves call streams (callstream.go). A robot that
// predates the field decodes the Identity and ignores the rest.
type welcomeMessage struct {
	Identity
	CallStreams bool `json:"call_streams,omitempty"`
}

// welcome completes the handshake by telling the robot its identity.
func welcome(ctx context.Context, str *quic.Stream, msg welcomeMessage) error {
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()
	if err := sendMessage(str, "", msg); err != nil {
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
	switch {
	case s.ctx.Err() != nil:
		return &closeError{code: codeShuttingDown, reason: "node shutting down"}
	case ctx.Err() != nil:
		return &closeError{code: codeHandshakeFailed, reason: "handshake timed out", err: ctx.Err()}
	}
	return &closeError{code: codeHandshakeFailed, reason: "handshake failed", err: err}
}

// proveRobot runs the robot's side of the handshake on a new stream and
// returns the node's welcome: the Identity it assigned. The TLS handshake
// has already verified the node, so the secret goes to a node of the
// robot's cluster only.
func proveRobot(ctx context.Context, qc *quic.Conn, hello Hello, secret string) (welcomeMessage, error) {
	str, err := qc.OpenStreamSync(ctx)
	if err != nil {
		return welcomeMessage{}, err
	}
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()

	if err := sendMessage(str, methodHello, helloMessage{Hello: hello, Secret: secret}); err != nil {
		return welcomeMessage{}, err
	}
	if err := str.Close(); err != nil {
		return welcomeMessage{}, err
	}
	var msg welcomeMessage
	if err := receiveMessage(str, "", &msg); err != nil {
		return welcomeMessage{}, err
	}
	if err := expectEnd(str); err != nil {
		return welcomeMessage{}, err
	}
	return msg, nil
}
