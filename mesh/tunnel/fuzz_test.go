package tunnel

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
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
	opening, err := encodeFrame(&envelope{Method: methodCallStream}, limit)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(opening, opening...))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Where call streams are served, an opening frame is taken with
		// nothing after it read; elsewhere it is a call like any other.
		r := bytes.NewReader(data)
		env, opens, err := readCall(r, limit, true, readBudget{})
		if err == nil && opens != (env.Method == methodCallStream) {
			t.Fatalf("opens %v for a frame naming %q", opens, env.Method)
		}
		if opens {
			frameLen := frameHeaderLen + int(binary.BigEndian.Uint32(data))
			if read := len(data) - r.Len(); read != frameLen {
				t.Fatalf("opening a call stream read %d bytes, its frame is %d", read, frameLen)
			}
		}
		env, opens, err = readCall(bytes.NewReader(data), limit, false, readBudget{})
		if opens {
			t.Fatal("a side that serves no call streams opened one")
		}
		if err != nil {
			// A byte stream has no I/O errors: everything is the peer's.
			if _, ok := errors.AsType[*closeError](err); !ok {
				t.Fatalf("error %v is not a protocol violation", err)
			}
			return
		}
		frame, ok := reencode(t, env, limit)
		if !ok {
			return
		}
		again, _, err := readCall(bytes.NewReader(frame), limit, false, readBudget{})
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

// FuzzSplitEnvelope: whatever payload the hand-written envelope decoder
// accepts, encoding/json decodes to the same method and body bytes; it
// accepts every call and answer encodeFrame writes, and encoding/json
// (an older peer) reads those as they were.
func FuzzSplitEnvelope(f *testing.F) {
	for _, env := range []envelope{
		{Method: "work", Body: json.RawMessage(`{"claim":{"max":2},"complete":{"items":[{"job_id":"j","token":7}]}}`)},
		{Body: json.RawMessage(`{"jobs":[{"id":"a<b>&"}]}`)},
		{Body: json.RawMessage(`null`)},
		{Method: "m"},
		{Method: "m", Error: &RemoteError{Code: "invalid", Message: "bad"}},
	} {
		frame, err := encodeFrame(&env, 1<<20)
		if err != nil {
			f.Fatal(err)
		}
		payload := frame[frameHeaderLen:]
		// An older peer decodes the frame with encoding/json alone.
		var old envelope
		if err := json.Unmarshal(payload, &old); err != nil || old.Method != env.Method ||
			!jsonEquivalent(old.Body, env.Body) || !reflect.DeepEqual(old.Error, env.Error) {
			f.Fatalf("%s: json decodes %+v, %v", payload, old, err)
		}
		got, ok := splitEnvelope(payload)
		if ok != (len(env.Body) > 0 && env.Error == nil) {
			f.Fatalf("%s: split %v", payload, ok)
		}
		if ok && (got.Method != env.Method || !jsonEquivalent(got.Body, env.Body)) {
			f.Fatalf("%s: split into %+v", payload, got)
		}
		f.Add(payload)
	}
	f.Add([]byte(`{"method":"m","body": 1 }`))
	f.Add([]byte(`{"method":"m\u0041","body":1}`))
	f.Add([]byte(`{"body":1,"error":{"code":"x"}}`))
	f.Add([]byte(`{"method":"m","body":1}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		got, ok := splitEnvelope(payload)
		if !ok {
			return
		}
		var want envelope
		if err := json.Unmarshal(payload, &want); err != nil {
			t.Fatalf("split %q, which json refuses: %v", payload, err)
		}
		if got.Method != want.Method || !bytes.Equal(got.Body, want.Body) || want.Error != nil {
			t.Fatalf("split %q into %+v, json into %+v", payload, got, want)
		}
	})
}

// FuzzEncodeFrameForOldPeers: whatever method and body a call or answer
// carries, the frame encodeFrame writes by hand fails where json.Marshal
// fails, and a peer that reads frames with encoding/json alone (an older
// one) reads it as the frame json.Marshal writes, as does readFrame.
func FuzzEncodeFrameForOldPeers(f *testing.F) {
	f.Add("work", []byte(`{"claim":{"max":2}}`))
	f.Add("", []byte(`null`))
	f.Add("m<>&", []byte(`"\u2028 <x>"`))
	f.Add("m", []byte(" [1,\n 2] "))
	f.Add("m", []byte("\"\xff\""))
	f.Add("m\u00e9", []byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, method string, body []byte) {
		env := &envelope{Method: method, Body: body}
		frame, err := encodeFrame(env, 1<<20)
		want, wantErr := json.Marshal(env)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("encodeFrame: %v, json.Marshal: %v", err, wantErr)
		}
		if err != nil {
			return
		}
		var old, ref envelope
		if err := json.Unmarshal(frame[frameHeaderLen:], &old); err != nil {
			t.Fatalf("an older peer refuses %q: %v", frame, err)
		}
		if err := json.Unmarshal(want, &ref); err != nil {
			t.Fatal(err)
		}
		if old.Method != ref.Method || !jsonEquivalent(old.Body, ref.Body) || old.Error != nil {
			t.Fatalf("an older peer reads %q as %+v, json.Marshal's frame as %+v", frame, old, ref)
		}
		got, err := readFrame(bytes.NewReader(frame), 1<<20)
		if err != nil || got.Method != ref.Method || !jsonEquivalent(got.Body, ref.Body) || got.Error != nil {
			t.Fatalf("readFrame reads %q as %+v, %v; want %+v", frame, got, err, ref)
		}
	})
}

// FuzzReadCallStream feeds arbitrary bytes to the node as a call
// stream's requests (after its opening frame): the reader returns each
// request, then io.EOF if the bytes end between frames or a protocol
// violation, never a panic; the requests it accepted, encoded again one
// after another, read back the same and end cleanly.
func FuzzReadCallStream(f *testing.F) {
	const limit = 1024
	var two []byte
	for _, env := range []envelope{
		{Method: "work", Body: json.RawMessage(`{"claim":{"max":2}}`)},
		{Method: "progress", Body: json.RawMessage(`{"items":[]}`)},
	} {
		frame, err := encodeFrame(&env, limit)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
		two = append(two, frame...)
	}
	f.Add(two)
	f.Add(append(two[:len(two):len(two)], 0, 0))
	f.Add(append(two[:len(two):len(two)], two[:7]...))
	f.Add(binary.BigEndian.AppendUint32(nil, 2))
	f.Add([]byte{})
	read := func(data []byte) ([]*envelope, error) {
		r := bytes.NewReader(data)
		var reqs []*envelope
		for {
			env, err := readStreamRequest(r, limit, readBudget{})
			if err != nil {
				return reqs, err
			}
			reqs = append(reqs, env)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, err := read(data)
		if _, ok := errors.AsType[*closeError](err); !ok && err != io.EOF {
			t.Fatalf("error %v is neither the stream's end nor a protocol violation", err)
		}
		var again []byte
		for _, env := range reqs {
			frame, ok := reencode(t, env, limit)
			if !ok {
				return
			}
			again = append(again, frame...)
		}
		back, err := read(again)
		if err != io.EOF || len(back) != len(reqs) {
			t.Fatalf("read back %d of %d requests, ending with %v", len(back), len(reqs), err)
		}
		for i := range reqs {
			if back[i].Method != reqs[i].Method || !jsonEquivalent(back[i].Body, reqs[i].Body) {
				t.Fatalf("round trip changed request %d: %+v → %+v", i, reqs[i], back[i])
			}
		}
	})
}

// reencode encodes a request the reader accepted, as the peer would send
// it again; false if it no longer fits, as re-encoding may escape
// characters the peer sent raw.
func reencode(t *testing.T, env *envelope, limit int) ([]byte, bool) {
	t.Helper()
	if env.Method == "" {
		t.Fatal("accepted a request without a method")
	}
	frame, err := encodeFrame(env, limit)
	if errors.Is(err, ErrFrameTooLarge) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("re-encode %+v: %v", env, err)
	}
	return frame, true
}
