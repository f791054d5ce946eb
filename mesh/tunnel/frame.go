package tunnel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
)

// frameHeaderLen is the size of the big-endian length that starts a frame.
const frameHeaderLen = 4

// readBufferStep bounds the memory a frame's length prefix alone can make
// us allocate: the buffer grows with the bytes that actually arrive, which
// QUIC flow control limits.
const readBufferStep = 64 << 10

// envelope is the JSON document inside a frame. A request carries Method
// and Body; a response carries Body or Error.
type envelope struct {
	Method string          `json:"method,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Error  *RemoteError    `json:"error,omitempty"`

	// held is the bytes of the connection's readBudget a request holds
	// until it is answered.
	held int64
	// overBudget, when not zero, is the size of a request that came over
	// the budget: it was read past, and is answered CodeBusy.
	overBudget uint32
}

// encodeFrame returns env as one frame, header included, so that it can go
// out in a single Write.
func encodeFrame(env *envelope, maxBytes int) ([]byte, error) {
	if frame, ok := plainFrame(env); ok {
		if size := len(frame) - frameHeaderLen; size > maxBytes || size > math.MaxUint32 {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, size, maxBytes)
		}
		binary.BigEndian.PutUint32(frame, uint32(len(frame)-frameHeaderLen))
		return frame, nil
	}
	payload, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode frame: %w", err)
	}
	if len(payload) > maxBytes || len(payload) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(payload), maxBytes)
	}
	frame := make([]byte, frameHeaderLen+len(payload))
	binary.BigEndian.PutUint32(frame, uint32(len(payload)))
	copy(frame[frameHeaderLen:], payload)
	return frame, nil
}

// plainFrame writes, header space included, the frame of a call or an
// answer without an error whose method, if any, is plain ASCII, in the
// form splitEnvelope reads; it reports false for any other envelope,
// which json.Marshal encodes. The body goes in as it is once checked to
// be one JSON value, where json.Marshal compacted it into a buffer of its
// own, and the frame took a third copy.
func plainFrame(env *envelope) ([]byte, bool) {
	if env.Error != nil || len(env.Body) == 0 || !plainMethod(env.Method) ||
		isSpace(env.Body[0]) || isSpace(env.Body[len(env.Body)-1]) || !json.Valid(env.Body) {
		return nil, false
	}
	frame := make([]byte, frameHeaderLen, frameHeaderLen+len(env.Method)+len(env.Body)+len(`{"method":"","body":}`))
	if env.Method != "" {
		frame = append(append(append(frame, `{"method":"`...), env.Method...), `","body":`...)
	} else {
		frame = append(frame, `{"body":`...)
	}
	return append(append(frame, env.Body...), '}'), true
}

// plainMethod reports whether a method needs no escape in JSON (nor a
// decoder's care for UTF-8).
func plainMethod[T string | []byte](m T) bool {
	for i := range len(m) {
		if c := m[i]; c < 0x20 || c >= 0x7f || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}

// readFrame reads one frame from r. A frame that breaks the rules comes back
// as a *closeError carrying the code to close the connection with; other
// errors are r's (a reset stream, a closed connection).
func readFrame(r io.Reader, maxBytes int) (*envelope, error) {
	return readFrameIn(r, maxBytes, readBudget{})
}

// readFrameIn is readFrame for a request, which takes its size from
// budget before its bytes are read.
func readFrameIn(r io.Reader, maxBytes int, budget readBudget) (*envelope, error) {
	env, err := nextFrame(r, maxBytes, budget)
	if err == io.EOF {
		return nil, truncated(err)
	}
	return env, err
}

// nextFrame is readFrame for a stream that may end before the frame:
// it returns io.EOF, unwrapped, when r ends before the frame's first byte.
func nextFrame(r io.Reader, maxBytes int, budget readBudget) (*envelope, error) {
	var header [frameHeaderLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, truncated(err)
	}
	size := binary.BigEndian.Uint32(header[:])
	if uint64(size) > uint64(maxBytes) {
		return nil, &closeError{
			code:   codeFrameTooLarge,
			reason: fmt.Sprintf("frame of %d bytes exceeds the limit of %d", size, maxBytes),
		}
	}
	held, ok := budget.take(size)
	if !ok {
		if _, err := io.CopyN(io.Discard, r, int64(size)); err != nil {
			return nil, truncated(err)
		}
		return &envelope{overBudget: size}, nil
	}
	env, err := readPayload(r, size)
	if err != nil {
		budget.give(&envelope{held: held})
		return nil, err
	}
	env.held = held
	return env, nil
}

// readPayload reads and decodes a frame's size bytes after its header.
func readPayload(r io.Reader, size uint32) (*envelope, error) {
	payload, err := readSized(r, int(size))
	if err != nil {
		return nil, truncated(err)
	}
	if env, ok := splitEnvelope(payload); ok {
		return env, nil
	}
	var env envelope
	if err := json.Unmarshal(payload, &env); err != nil {
		return nil, &closeError{code: codeMalformedFrame, reason: "malformed frame", err: err}
	}
	return &env, nil
}

// readSized reads exactly size bytes. Its buffer starts at
// readBufferStep at most and doubles, never past size, only once the
// bytes before have arrived, so a frame's length prefix alone cannot make
// it allocate much more than the bytes that came. A bytes.Buffer filled
// by io.CopyN did the same but grew once more past a full buffer to look
// for the end: a second buffer and copy for every frame of up to
// readBufferStep, which is every call of a robot (dispatch bench: a
// tenth of the bytes allocated).
func readSized(r io.Reader, size int) ([]byte, error) {
	buf := make([]byte, 0, min(size, readBufferStep))
	for len(buf) < size {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(size, 2*len(buf)))
			copy(grown, buf)
			buf = grown
		}
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// splitEnvelope reads, without encoding/json, the payloads encodeFrame
// writes for calls and answers: {"method":"m","body":B} and {"body":B},
// with a method of plain ASCII. It checks that B is one JSON value and
// reports false for any other form, which json.Unmarshal then decodes
// (or refuses). Decoding the envelope scanned every body twice more than
// the body's own decoding does; for an internet robot's claims and
// completions that was about a tenth of the node's CPU (dispatch bench).
func splitEnvelope(p []byte) (*envelope, bool) {
	var env envelope
	rest, ok := bytes.CutPrefix(p, []byte(`{"method":"`))
	if ok {
		end := bytes.IndexByte(rest, '"')
		if end <= 0 || !plainMethod(rest[:end]) {
			return nil, false // escapes and non-ASCII: json decodes them
		}
		env.Method = string(rest[:end])
		if rest, ok = bytes.CutPrefix(rest[end+1:], []byte(`,"body":`)); !ok {
			return nil, false
		}
	} else if rest, ok = bytes.CutPrefix(p, []byte(`{"body":`)); !ok {
		return nil, false
	}
	body, ok := bytes.CutSuffix(rest, []byte("}"))
	// White space around the body would stay in it; json.Unmarshal drops it.
	if !ok || len(body) == 0 || isSpace(body[0]) || isSpace(body[len(body)-1]) || !json.Valid(body) {
		return nil, false
	}
	env.Body = body
	return &env, true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// truncated reports a stream that ended cleanly in the middle of a frame as
// the protocol violation it is.
func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &closeError{code: codeMalformedFrame, reason: "stream ended inside a frame"}
	}
	return err
}

// expectEnd reads the end of a stream after its only frame. Reaching it also
// completes the receive side, which is what lets QUIC grant the peer a new
// stream in place of this one.
func expectEnd(r io.Reader) error {
	var b [1]byte
	_, err := io.ReadFull(r, b[:])
	switch {
	case err == nil:
		return &closeError{code: codeMalformedFrame, reason: "data after the frame"}
	case errors.Is(err, io.EOF):
		return nil
	default:
		return err
	}
}

// readCall reads the first frame of a stream the peer opened: a call,
// which is the stream's only frame, or — when streams is set — the
// opening of a call stream (opens), whose calls follow on it. A call
// holds its size of budget until the caller gives it back.
func readCall(r io.Reader, maxBytes int, streams bool, budget readBudget) (env *envelope, opens bool, err error) {
	env, err = readFrameIn(r, maxBytes, budget)
	if err != nil {
		return nil, false, err
	}
	if streams && env.Method == methodCallStream {
		budget.give(env)
		return env, true, nil
	}
	if err = expectEnd(r); err == nil && env.overBudget == 0 {
		err = requireMethod(env)
	}
	if err != nil {
		budget.give(env)
		return nil, false, err
	}
	return env, false, nil
}

// requireMethod refuses a request frame that names no method.
func requireMethod(env *envelope) error {
	if env.Method == "" {
		return &closeError{code: codeMalformedFrame, reason: "request without a method"}
	}
	return nil
}

// requireCall refuses a frame that cannot be a call on a stream already
// carrying calls: one without a method, or one opening a call stream.
func requireCall(env *envelope) error {
	if err := requireMethod(env); err != nil {
		return err
	}
	if env.Method == methodCallStream {
		return &closeError{code: codeMalformedFrame, reason: "a call stream opened inside a call stream"}
	}
	return nil
}

// readStreamRequest reads the next request of a call stream; io.EOF,
// unwrapped, means the caller ended the stream between calls.
// The request holds its size of budget until the caller gives it back.
func readStreamRequest(r io.Reader, maxBytes int, budget readBudget) (*envelope, error) {
	env, err := nextFrame(r, maxBytes, budget)
	if err != nil {
		return nil, err
	}
	if env.overBudget != 0 {
		return env, nil
	}
	if err := requireCall(env); err != nil {
		budget.give(env)
		return nil, err
	}
	return env, nil
}

// sendMessage writes one handshake frame carrying v as its body.
func sendMessage(w io.Writer, method string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s message: %w", method, err)
	}
	frame, err := encodeFrame(&envelope{Method: method, Body: body}, maxHandshakeFrameBytes)
	if err != nil {
		return err
	}
	_, err = w.Write(frame)
	return err
}

// receiveMessage reads one handshake frame that must name method (empty for
// replies) and decodes its body into v.
func receiveMessage(r io.Reader, method string, v any) error {
	env, err := readFrame(r, maxHandshakeFrameBytes)
	if err != nil {
		return err
	}
	if env.Method != method {
		return &closeError{
			code:   codeMalformedFrame,
			reason: fmt.Sprintf("handshake expected %q, got %q", method, env.Method),
		}
	}
	if err := json.Unmarshal(env.Body, v); err != nil {
		return &closeError{code: codeMalformedFrame, reason: "malformed handshake message", err: err}
	}
	return nil
}
