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
}

// encodeFrame returns env as one frame, header included, so that it can go
// out in a single Write.
func encodeFrame(env *envelope, maxBytes int) ([]byte, error) {
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

// readFrame reads one frame from r. A frame that breaks the rules comes back
// as a *closeError carrying the code to close the connection with; other
// errors are r's (a reset stream, a closed connection).
func readFrame(r io.Reader, maxBytes int) (*envelope, error) {
	var header [frameHeaderLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, truncated(err)
	}
	size := binary.BigEndian.Uint32(header[:])
	if uint64(size) > uint64(maxBytes) {
		return nil, &closeError{
			code:   codeFrameTooLarge,
			reason: fmt.Sprintf("frame of %d bytes exceeds the limit of %d", size, maxBytes),
		}
	}
	var payload bytes.Buffer
	payload.Grow(int(min(size, readBufferStep)))
	if _, err := io.CopyN(&payload, r, int64(size)); err != nil {
		return nil, truncated(err)
	}
	var env envelope
	if err := json.Unmarshal(payload.Bytes(), &env); err != nil {
		return nil, &closeError{code: codeMalformedFrame, reason: "malformed frame", err: err}
	}
	return &env, nil
}

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

// readRequest reads the only frame of a call's stream and the stream's end.
func readRequest(r io.Reader, maxBytes int) (*envelope, error) {
	env, err := readFrame(r, maxBytes)
	if err != nil {
		return nil, err
	}
	if err := expectEnd(r); err != nil {
		return nil, err
	}
	if env.Method == "" {
		return nil, &closeError{code: codeMalformedFrame, reason: "request without a method"}
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
