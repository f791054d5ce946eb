package tunnel

import (
	"errors"
	"fmt"

	"github.com/quic-go/quic-go"
)

// Codes of the errors this package itself sends back to a caller. Handlers
// choose their own codes by returning a [*RemoteError].
const (
	// CodeInternal marks a handler error that was not a *RemoteError, or a
	// handler that panicked.
	CodeInternal = "internal"
	// CodeNoHandler means the callee serves no calls (its config has no
	// Handler).
	CodeNoHandler = "no_handler"
	// CodeResponseTooLarge means the handler's response did not fit in one
	// frame.
	CodeResponseTooLarge = "response_too_large"
	// CodeBusy means the callee was serving larger calls of this
	// connection that held all the bytes it serves at once (budget.go);
	// nothing was done, and the call may be retried once they are
	// answered.
	CodeBusy = "busy"
)

// RemoteError is an error returned by the Handler on the other side of a
// connection, as it comes out of [Conn.Call] (use errors.As). A Handler may
// return one itself to send a specific Code.
type RemoteError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("remote error %s: %s", e.Code, e.Message)
}

// remoteErrorFrom turns a handler's error into what goes on the wire,
// keeping the code of a *RemoteError anywhere in its chain.
func remoteErrorFrom(err error) *RemoteError {
	if re, ok := errors.AsType[*RemoteError](err); ok {
		return &RemoteError{Code: re.Code, Message: re.Message}
	}
	return &RemoteError{Code: CodeInternal, Message: err.Error()}
}

var (
	// ErrAuthRefused is wrapped by the error [Dial] returns when the node
	// refused the robot's token; the error text carries the node's reason.
	// Retrying with the same token will not help.
	ErrAuthRefused = errors.New("authentication refused")

	// ErrNodeNotTrusted is wrapped by the error [Dial] returns when the
	// peer's certificate is not a node certificate of the cluster the
	// robot's token names (ClientConfig.TLS refused it). The secret was
	// not sent.
	ErrNodeNotTrusted = errors.New("the node is not one of the robot token's cluster")

	// ErrFrameTooLarge is wrapped by the error [Conn.Call] returns when the
	// request does not fit in MaxFrameBytes; nothing was sent.
	ErrFrameTooLarge = errors.New("frame too large")
)

// QUIC application error codes a connection is closed with. The peer sees
// the code and a reason phrase.
const (
	codeClosed          quic.ApplicationErrorCode = 0x0 // Conn.Close
	codeAuthRefused     quic.ApplicationErrorCode = 0x1 // node refused the robot
	_                   quic.ApplicationErrorCode = 0x2 // was: robot refused the node's token proof
	codeMalformedFrame  quic.ApplicationErrorCode = 0x3 // bad JSON, truncated frame, trailing bytes
	codeFrameTooLarge   quic.ApplicationErrorCode = 0x4 // length prefix over MaxFrameBytes
	codeShuttingDown    quic.ApplicationErrorCode = 0x5 // node is stopping
	codeHandshakeFailed quic.ApplicationErrorCode = 0x6 // handshake broke off or timed out
)

// streamCanceled resets both directions of a call's stream when the caller
// gave up or a frame could not be read.
const streamCanceled quic.StreamErrorCode = 0x1

// closeError is a failure after which the connection is closed with code,
// telling the peer reason. err is the underlying cause, which is logged but
// not sent.
type closeError struct {
	code   quic.ApplicationErrorCode
	reason string
	err    error
}

func (e *closeError) Error() string {
	if e.err == nil {
		return e.reason
	}
	return e.reason + ": " + e.err.Error()
}

func (e *closeError) Unwrap() error { return e.err }

// remoteClose reports the code and reason the peer closed the connection
// with, if err says the peer did.
func remoteClose(err error) (*quic.ApplicationError, bool) {
	appErr, ok := errors.AsType[*quic.ApplicationError](err)
	if !ok || !appErr.Remote {
		return nil, false
	}
	return appErr, true
}
