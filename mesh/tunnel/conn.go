package tunnel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"

	"github.com/quic-go/quic-go"
)

// Handler serves the calls the other side of a connection makes. body is the
// request's JSON exactly as the caller encoded it (nil if it sent none); the
// returned JSON becomes the caller's response. An error reaches the caller
// as a [*RemoteError]: return one to choose its code, any other error is
// sent with code [CodeInternal] and its Error text.
//
// Handlers run concurrently, one goroutine per call, with a ctx that ends
// when the caller gives up or the connection closes; they must return soon
// after, because [Conn.Done] waits for them. [IdentityFrom] gives the
// robot's identity.
type Handler func(ctx context.Context, method string, body json.RawMessage) (json.RawMessage, error)

type identityKey struct{}

// IdentityFrom returns the identity of the robot on the connection a
// Handler is serving.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id.clone(), ok
}

// Conn is one authenticated connection between a node and a robot. Both
// ends use the same type: either side may Call the other, and each serves
// the other's calls with its Handler. All methods are safe for concurrent
// use.
type Conn struct {
	qc       *quic.Conn
	identity Identity
	handler  Handler
	maxFrame int
	logger   *slog.Logger
	// serveStreams says this side serves call streams (callstream.go);
	// streams, set on a robot whose node offered them, keeps the idle ones
	// its calls go on.
	serveStreams bool
	streams      *callStreams
	// served bounds the bytes of the calls being served.
	served readBudget

	calls sync.WaitGroup // incoming calls being served
	done  chan struct{}  // closed once qc is closed and every call returned
}

func newConn(qc *quic.Conn, identity Identity, handler Handler, maxFrame int, logger *slog.Logger) *Conn {
	return &Conn{
		qc:       qc,
		identity: identity,
		handler:  handler,
		maxFrame: maxFrame,
		served:   newReadBudget(maxFrame),
		logger:   logger.With("remote", qc.RemoteAddr().String(), "robot_id", identity.RobotID),
		done:     make(chan struct{}),
	}
}

// Identity returns the authenticated robot's identity.
func (c *Conn) Identity() Identity { return c.identity.clone() }

// Done returns a channel that is closed once the connection has closed, for
// whatever reason, and every call it was serving has returned.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while Done is open, and afterwards why the connection
// closed: the peer's or our own close code and reason, or an idle timeout.
// The error wraps net.ErrClosed.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		cause := context.Cause(c.qc.Context())
		if appErr, ok := remoteClose(cause); ok && appErr.ErrorCode == codeAuthRefused {
			// The node revoked this robot's credentials (see Revoke).
			return fmt.Errorf("tunnel: connection to %s closed: %w: %s: %w", c.qc.RemoteAddr(), ErrAuthRefused, appErr.ErrorMessage, net.ErrClosed)
		}
		return fmt.Errorf("tunnel: connection to %s closed: %w", c.qc.RemoteAddr(), cause)
	default:
		return nil
	}
}

// Close closes the connection, sending reason to the peer. Calls in flight
// on both sides fail and handlers' contexts end. Close does not wait for
// those handlers, so it may be called from one; wait on Done for that.
func (c *Conn) Close(reason string) error {
	return c.qc.CloseWithError(codeClosed, reason)
}

// Revoke closes the connection because the robot's credentials are no
// longer good (its token was revoked or expired), sending reason. The
// robot sees it as a refusal: its next Dial with the same token is
// refused too, and retrying will not help.
func (c *Conn) Revoke(reason string) error {
	return c.qc.CloseWithError(codeAuthRefused, reason)
}

// serve accepts the peer's calls until the connection closes, then waits
// for the calls it started and closes done.
func (c *Conn) serve() {
	defer close(c.done)
	for {
		str, err := c.qc.AcceptStream(c.qc.Context())
		if err != nil {
			break
		}
		c.calls.Go(func() { c.serveCall(str) })
	}
	// AcceptStream fails as soon as closing starts, a moment before the
	// close reason is recorded; Err needs that reason.
	<-c.qc.Context().Done()
	c.calls.Wait()
}

// serveCall answers one call on str, or the calls of a call stream.
func (c *Conn) serveCall(str *quic.Stream) {
	req, opens, err := readCall(str, c.maxFrame, c.serveStreams, c.served)
	if opens {
		c.serveCallStream(str)
		return
	}
	if err != nil {
		abortStream(str)
		c.closeOnViolation(err)
		return
	}
	// The stream's context ends when the caller stops reading (it gave up)
	// or the connection closes.
	ctx := context.WithValue(str.Context(), identityKey{}, c.identity)
	err = c.answer(ctx, str, req)
	c.served.give(req)
	if err != nil {
		abortStream(str)
		return
	}
	if err := str.Close(); err != nil {
		abortStream(str)
	}
}

// answer serves req and writes its response frame to str.
func (c *Conn) answer(ctx context.Context, str *quic.Stream, req *envelope) error {
	frame, err := encodeFrame(c.invoke(ctx, req), c.maxFrame)
	if err != nil {
		code := CodeInternal
		if errors.Is(err, ErrFrameTooLarge) {
			code = CodeResponseTooLarge
		}
		c.logger.Warn("tunnel: cannot send response", "method", req.Method, "err", err)
		frame, err = encodeFrame(&envelope{Error: &RemoteError{Code: code, Message: err.Error()}}, c.maxFrame)
		if err != nil {
			return err
		}
	}
	_, err = str.Write(frame)
	return err
}

// invoke runs the handler for req and turns its outcome into a response.
func (c *Conn) invoke(ctx context.Context, req *envelope) (resp *envelope) {
	if req.overBudget != 0 {
		return &envelope{Error: busyError(req.overBudget, c.maxFrame)}
	}
	if c.handler == nil {
		return &envelope{Error: &RemoteError{Code: CodeNoHandler, Message: "this side serves no calls"}}
	}
	defer func() {
		// A bug in one handler must not take down the node or robot and
		// every other call with it.
		if p := recover(); p != nil {
			c.logger.Error("tunnel: handler panicked", "method", req.Method, "panic", p, "stack", string(debug.Stack()))
			resp = &envelope{Error: &RemoteError{Code: CodeInternal, Message: fmt.Sprintf("handler for %q panicked", req.Method)}}
		}
	}()
	body, err := c.handler(ctx, req.Method, req.Body)
	if err != nil {
		return &envelope{Error: remoteErrorFrom(err)}
	}
	return &envelope{Body: body}
}

// closeOnViolation closes the connection if err says the peer broke the
// protocol; the other connections of a node are not affected.
func (c *Conn) closeOnViolation(err error) {
	ce, ok := errors.AsType[*closeError](err)
	if !ok {
		return
	}
	c.logger.Warn("tunnel: closing connection: peer broke the protocol", "err", ce)
	_ = c.qc.CloseWithError(ce.code, ce.reason)
}

// Call calls method on the other side with req encoded as JSON (nil sends
// no body; a json.RawMessage, a body the caller encoded, goes as it is
// once checked to be one JSON value) and decodes the response into resp
// (nil discards it; a *json.RawMessage takes the body as it came, for
// the caller to decode). Each call has a QUIC stream no other call is
// using at the time (a new one, or a kept call stream, see
// callstream.go), so calls do not wait for each other.
//
// If ctx ends first, the call's stream is reset, the callee's handler
// context ends, and Call returns ctx's error. An error from the callee's
// handler comes back as a [*RemoteError] (use errors.As). Once the
// connection has closed, Call returns an error wrapping net.ErrClosed.
func (c *Conn) Call(ctx context.Context, method string, req, resp any) error {
	if method == "" {
		return errors.New("tunnel: call without a method")
	}
	var body json.RawMessage
	switch r := req.(type) {
	case nil:
	case json.RawMessage:
		if len(r) == 0 {
			return fmt.Errorf("tunnel: call %s: an empty request body", method)
		}
		body = r // encodeFrame checks it is one JSON value
	default:
		b, err := json.Marshal(req)
		if err != nil {
			return fmt.Errorf("tunnel: call %s: encode request: %w", method, err)
		}
		body = b
	}
	frame, err := encodeFrame(&envelope{Method: method, Body: body}, c.maxFrame)
	if err != nil {
		return fmt.Errorf("tunnel: call %s: %w", method, err)
	}
	if c.streams != nil {
		return c.callOnStream(ctx, method, frame, resp)
	}

	str, err := c.qc.OpenStreamSync(ctx)
	if err != nil {
		return c.callError(ctx, method, err)
	}
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	defer stop()

	// The request goes out with the stream: the peer cannot accept a
	// stream before data arrives on it.
	if _, err := str.Write(frame); err != nil {
		abortStream(str)
		return c.callError(ctx, method, err)
	}
	if err := str.Close(); err != nil {
		abortStream(str)
		return c.callError(ctx, method, err)
	}
	reply, err := readFrame(str, c.maxFrame)
	if err == nil {
		err = expectEnd(str)
	}
	if err != nil {
		abortStream(str)
		c.closeOnViolation(err)
		return c.callError(ctx, method, err)
	}
	return c.decodeReply(method, reply, resp)
}

// decodeReply returns the callee's error, or decodes its answer into resp.
func (c *Conn) decodeReply(method string, reply *envelope, resp any) error {
	if reply.Error != nil {
		return fmt.Errorf("tunnel: call %s: %w", method, reply.Error)
	}
	if raw, ok := resp.(*json.RawMessage); ok {
		// The body was checked with its frame and is this reply's own:
		// the caller decodes it.
		*raw = reply.Body
		return nil
	}
	if resp != nil && len(reply.Body) > 0 {
		if err := json.Unmarshal(reply.Body, resp); err != nil {
			return fmt.Errorf("tunnel: call %s: decode response: %w", method, err)
		}
	}
	return nil
}

// callError prefers the caller's own cancellation, then the connection's
// close reason, over the stream error they caused.
func (c *Conn) callError(ctx context.Context, method string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("tunnel: call %s: %w", method, context.Cause(ctx))
	}
	if cause := context.Cause(c.qc.Context()); cause != nil {
		return fmt.Errorf("tunnel: call %s: connection closed: %w", method, cause)
	}
	return fmt.Errorf("tunnel: call %s: %w", method, err)
}
