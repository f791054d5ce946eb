package tunnel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// FuzzReadRequest feeds arbitrary bytes to the frame decoder as a call's
// stream: whatever a peer sends, the decoder returns a request or a
// protocol violation (which closes only that connection), never a panic
// or an allocation beyond the frame limit; a request it accepts survives
// being encoded and read again.
func FuzzReadRequest(f *testing.F) {
	const limit = 1024
	withHeader := func(size uint32, payload string) []byte {
		return append(binary.BigEndian.AppendUint32(nil, size), payload...)
	}
	for _, env := range []envelope{
		{Method: "claim", Body: json.RawMessage(`{"robot_id":"r","max":4}`)},
		{Method: "complete", Body: json.RawMessage(`[{"job_id":"j","token":7}]`)},
		{Method: "m", Error: &RemoteError{Code: "invalid", Message: "bad"}},
	} {
		frame, err := encodeFrame(&env, limit)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add(withHeader(limit+1, ""))
	f.Add(withHeader(0xFFFFFFFF, "{"))
	f.Add(withHeader(5, "{{{{{"))
	f.Add(withHeader(2, "{}"))
	f.Add([]byte{0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := readRequest(bytes.NewReader(data), limit)
		if err != nil {
			// A byte stream has no I/O errors: everything is the peer's.
			if _, ok := errors.AsType[*closeError](err); !ok {
				t.Fatalf("error %v is not a protocol violation", err)
			}
			return
		}
		if env.Method == "" {
			t.Fatal("accepted a request without a method")
		}
		frame, err := encodeFrame(env, limit)
		if errors.Is(err, ErrFrameTooLarge) {
			return // re-encoding may escape characters the peer sent raw
		}
		if err != nil {
			t.Fatalf("re-encode %+v: %v", env, err)
		}
		again, err := readRequest(bytes.NewReader(frame), limit)
		if err != nil {
			t.Fatalf("read back a re-encoded request: %v", err)
		}
		if again.Method != env.Method || !reflect.DeepEqual(again.Error, env.Error) || !jsonEquivalent(again.Body, env.Body) {
			t.Fatalf("round trip changed the request: %+v → %+v", env, again)
		}
	})
}

func jsonEquivalent(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
