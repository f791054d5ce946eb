package tunnel

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/quic-go/quic-go"
)

// Call streams: a robot whose node offered them in its welcome
// (welcomeMessage.CallStreams) keeps the streams of finished calls and
// sends later calls on them, one call at a time per stream, instead of
// opening a stream per call. A call stream starts with a frame naming
// methodCallStream; then each request frame is followed by its response
// frame, and the stream ends when the robot closes or resets it.
//
// A stream per call cost, beyond the call's own two packets, the node's
// MAX_STREAMS credit for the next stream (a packet of its own once the
// robot acknowledged the answer) and the robot's acknowledgement of that;
// plus the stream's state on both sides and a goroutine on the node. Over
// the dispatch bench's 50 robots that came to about 3.5 UDP sends per job.
//
// Neither side assumes the other knows them: a node that predates them
// sends no CallStreams, and its robot opens a stream per call; a robot
// that predates them never sends methodCallStream, and the node serves
// its streams as before.

// methodCallStream names the frame that opens a call stream. Inside a
// call stream it is a protocol violation (readStreamRequest); on a side
// that serves no call streams (a robot, or a node made to serve as an
// older one) it is a call like any other, which no handler serves.
const methodCallStream = "tunnel.calls"

// callStreamOpening is the frame that opens a call stream, sent in the
// same Write as the stream's first request.
var callStreamOpening = func() []byte {
	frame, err := encodeFrame(&envelope{Method: methodCallStream}, maxHandshakeFrameBytes)
	if err != nil {
		panic(err)
	}
	return frame
}()

// maxIdleCallStreams bounds the streams a robot keeps for later calls. A
// robot has a few calls in flight at once (a claim held for work beside a
// heartbeat and completions); a burst beyond that opens streams that are
// reset once their call ends.
const maxIdleCallStreams = 8

// callStreams is a robot's pool of idle call streams.
type callStreams struct {
	mu   sync.Mutex
	idle []*quic.Stream
}

// take returns an idle stream, or nil if none is.
func (p *callStreams) take() *quic.Stream {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	str := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	return str
}

// put keeps str for a later call, or resets it if enough are kept.
func (p *callStreams) put(str *quic.Stream) {
	p.mu.Lock()
	if len(p.idle) < maxIdleCallStreams {
		p.idle = append(p.idle, str)
		str = nil
	}
	p.mu.Unlock()
	if str != nil {
		abortStream(str)
	}
}

// callOnStream is Call on a call stream: an idle one, or a new one that
// frame opens.
func (c *Conn) callOnStream(ctx context.Context, method string, frame []byte, resp any) error {
	str := c.streams.take()
	if str == nil {
		var err error
		if str, err = c.qc.OpenStreamSync(ctx); err != nil {
			return c.callError(ctx, method, err)
		}
		frame = append(callStreamOpening[:len(callStreamOpening):len(callStreamOpening)], frame...)
	}
	stop := context.AfterFunc(ctx, func() { abortStream(str) })
	_, err := str.Write(frame)
	var reply *envelope
	if err == nil {
		reply, err = readFrame(str, c.maxFrame)
	}
	// A caller that gave up reset the stream: it cannot carry another call.
	kept := stop()
	if err != nil {
		abortStream(str)
		c.closeOnViolation(err)
		return c.callError(ctx, method, err)
	}
	if kept {
		c.streams.put(str)
	}
	return c.decodeReply(method, reply, resp)
}

// serveCallStream answers the calls of a call stream, in turn, until the
// robot ends the stream.
func (c *Conn) serveCallStream(str *quic.Stream) {
	ctx := context.WithValue(str.Context(), identityKey{}, c.identity)
	for {
		req, err := readStreamRequest(str, c.maxFrame, c.served)
		if errors.Is(err, io.EOF) {
			_ = str.Close() // ended between calls: nothing is owed
			return
		}
		if err != nil {
			abortStream(str)
			c.closeOnViolation(err)
			return
		}
		// Each call's handler gets a context that ends with the call, as
		// it ends with the stream of a call that has one to itself.
		callCtx, cancel := context.WithCancel(ctx)
		err = c.answer(callCtx, str, req)
		cancel()
		c.served.give(req)
		if err != nil {
			abortStream(str)
			return
		}
	}
}
