package tunnel

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

func TestFrameRoundTrip(t *testing.T) {
	frame, err := encodeFrame(&envelope{Method: "claim", Body: json.RawMessage(`{"n":1}`)}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if got := binary.BigEndian.Uint32(frame); int(got) != len(frame)-frameHeaderLen {
		t.Fatalf("header says %d, payload is %d bytes", got, len(frame)-frameHeaderLen)
	}
	env, _, err := readCall(bytes.NewReader(frame), 1024, false, readBudget{})
	if err != nil {
		t.Fatal(err)
	}
	if env.Method != "claim" || string(env.Body) != `{"n":1}` {
		t.Fatalf("read back %+v", env)
	}
	if _, err := encodeFrame(&envelope{Method: "claim", Body: json.RawMessage(`{"n":1}`)}, 10); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("encoding over the limit: %v", err)
	}
}

func TestFrameViolations(t *testing.T) {
	withHeader := func(size uint32, payload string) []byte {
		b := binary.BigEndian.AppendUint32(nil, size)
		return append(b, payload...)
	}
	valid, err := encodeFrame(&envelope{Method: "m"}, 1024)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		input []byte
		code  quic.ApplicationErrorCode
	}{
		{"oversized length", withHeader(1025, ""), codeFrameTooLarge},
		{"garbage", withHeader(5, "{{{{{"), codeMalformedFrame},
		{"empty frame", withHeader(0, ""), codeMalformedFrame},
		{"truncated header", []byte{0, 0}, codeMalformedFrame},
		{"truncated payload", withHeader(10, `{"a"`), codeMalformedFrame},
		{"no frame", nil, codeMalformedFrame},
		{"trailing bytes", append(valid, 'x'), codeMalformedFrame},
		{"no method", withHeader(2, "{}"), codeMalformedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := readCall(bytes.NewReader(tt.input), 1024, false, readBudget{})
			ce, ok := errors.AsType[*closeError](err)
			if !ok {
				t.Fatalf("got %v, want a protocol violation", err)
			}
			if ce.code != tt.code {
				t.Fatalf("violation %q has code %#x, want %#x", ce, ce.code, tt.code)
			}
		})
	}
	// An I/O error is not the peer's fault and closes nothing.
	if _, err := readFrame(iotestErrReader{}, 1024); errors.As(err, new(*closeError)) {
		t.Fatalf("an I/O error became a violation: %v", err)
	}
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, io.ErrClosedPipe }

// A robot that sends a bad frame after authenticating loses its own
// connection; the node and its other robots carry on.
func TestBadFrameClosesOnlyThatConnection(t *testing.T) {
	tests := []struct {
		name   string
		frame  []byte
		code   uint64
		reason string
	}{
		{"malformed JSON", append(binary.BigEndian.AppendUint32(nil, 9), "not json!"...), uint64(codeMalformedFrame), "malformed frame"},
		{"oversized length", binary.BigEndian.AppendUint32(nil, defaultMaxFrameBytes+1), uint64(codeFrameTooLarge), "exceeds the limit"},
	}
	ts := startServer(t)
	good := dialClient(t, ts.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := dialClient(t, ts.addr, func(cfg *ClientConfig) { cfg.Hello.Name = "bad" })
			handledBefore := ts.handled.Load()

			// Drive the authenticated connection's QUIC layer directly.
			str, err := bad.qc.OpenStreamSync(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := str.Write(tt.frame); err != nil {
				t.Fatal(err)
			}
			_ = str.Close()

			waitDone(t, bad, 5*time.Second)
			appErr, ok := remoteClose(bad.Err())
			if !ok || uint64(appErr.ErrorCode) != tt.code || !strings.Contains(appErr.ErrorMessage, tt.reason) {
				t.Fatalf("bad robot's connection ended with %v, want code %#x mentioning %q", bad.Err(), tt.code, tt.reason)
			}
			if err := bad.Call(ctx, "echo", 1, nil); err == nil {
				t.Fatal("call on the closed connection succeeded")
			}
			if got := ts.handled.Load(); got != handledBefore {
				t.Fatal("the bad frame reached the handler")
			}

			var out string
			if err := good.Call(ctx, "echo", "fine", &out); err != nil || out != "fine" {
				t.Fatalf("other robot's call: %q, %v", out, err)
			}
			again := dialClient(t, ts.addr)
			if err := again.Call(ctx, "echo", "new robot", nil); err != nil {
				t.Fatalf("new robot after a violation: %v", err)
			}
			if !strings.Contains(ts.logs.String(), "peer broke the protocol") {
				t.Error("the violation was not logged")
			}
		})
	}
}

// trickleReader hands out its bytes at most 1000 at a time.
type trickleReader struct{ data []byte }

func (r *trickleReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 1000)], r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadSizedGrowsWithWhatArrives(t *testing.T) {
	// A whole frame larger than the first buffer comes back byte for
	// byte, in a buffer of its size.
	want := bytes.Repeat([]byte("0123456789abcdef"), 3*readBufferStep/16+7)
	got, err := readSized(&trickleReader{data: want}, len(want))
	if err != nil || !bytes.Equal(got, want) || cap(got) != len(want) {
		t.Fatalf("readSized of %d bytes: %d bytes back in %d, equal %v, err %v", len(want), len(got), cap(got), bytes.Equal(got, want), err)
	}
	// A length prefix of 16 MiB with 200 KiB behind it allocates in
	// proportion to the 200 KiB (the doubling buffers sum to under four
	// times what arrived and the first step), and says the stream ended.
	arrived := 200 << 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = readSized(&trickleReader{data: make([]byte, arrived)}, 16<<20)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Fatalf("readSized past the stream's end: err %v, want io.EOF or io.ErrUnexpectedEOF", err)
	}
	if allocated, bound := after.TotalAlloc-before.TotalAlloc, uint64(4*(arrived+readBufferStep)); allocated > bound {
		t.Fatalf("readSized of a 16 MiB prefix over %d bytes allocated %d bytes, want at most %d", arrived, allocated, bound)
	}
}
