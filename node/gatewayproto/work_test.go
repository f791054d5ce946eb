package gatewayproto

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/casare/casare/consensus"
)

func TestDecodeWorkRequestRefusesWhatNoRobotSends(t *testing.T) {
	many, _ := json.Marshal(WorkRequest{Claim: ClaimRequest{Max: 1}, Complete: &consensus.CompleteCmd{Items: make([]consensus.Completion, maxWorkCompletions+1)}})
	for name, tc := range map[string]struct {
		body, wantErr string
	}{
		"claim and completion":  {body: `{"claim":{"max":2,"request_id":"r","wait_ms":100},"complete":{"items":[{"job_id":"j","token":7,"succeeded":true}]}}`},
		"unknown field ignored": {body: `{"claim":{"max":1},"later":true}`},
		"no max":                {body: `{"claim":{"request_id":"r"}}`, wantErr: "claim.max"},
		"negative wait":         {body: `{"claim":{"max":1,"wait_ms":-5}}`, wantErr: "claim.wait_ms"},
		"too many completions":  {body: string(many), wantErr: "completions"},
		"not an object":         {body: `[1,2]`, wantErr: "decode work request"},
		"trailing data":         {body: `{"claim":{"max":1}} {}`, wantErr: "decode work request"},
		"wrong type":            {body: `{"claim":{"max":"two"}}`, wantErr: "decode work request"},
	} {
		t.Run(name, func(t *testing.T) {
			req, err := DecodeWorkRequest([]byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %+v, %v; want an error naming %q", req, err, tc.wantErr)
			case tc.wantErr != "" && (req.Claim.Max != 0 || req.Complete != nil):
				t.Fatalf("a refused request came back with content: %+v", req)
			}
		})
	}
}

// FuzzDecodeWorkRequest: whatever a robot sends, the decoder returns
// without panicking, and what it accepts is a claim the gateway can
// serve: a positive max, no negative wait, a bounded batch.
func FuzzDecodeWorkRequest(f *testing.F) {
	f.Add([]byte(`{"claim":{"max":2,"request_id":"r","wait_ms":100},"complete":{"items":[{"job_id":"j","token":7}]}}`))
	f.Add([]byte(`{"claim":{"max":0}}`))
	f.Add([]byte(`{"complete":null,"claim":{"max":1,"have":[{"workflow_id":"w","version":1}]}}`))
	f.Add([]byte(`{"claim":{"max":9223372036854775807,"wait_ms":-1}}`))
	f.Add([]byte{0xff, 0x00, '{'})
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := DecodeWorkRequest(body)
		if err != nil {
			return
		}
		if req.Claim.Max <= 0 || req.Claim.WaitMS < 0 {
			t.Fatalf("accepted an unservable claim %+v from %q", req.Claim, body)
		}
		if req.Complete != nil && len(req.Complete.Items) > maxWorkCompletions {
			t.Fatalf("accepted %d completions", len(req.Complete.Items))
		}
	})
}

// FuzzDecodeWorkRequestAsJSON: what DecodeWorkRequest accepts is what
// json.Unmarshal of the whole request makes of it; it refuses what
// json.Unmarshal refuses, and accepts every servable request that
// json.Unmarshal reads. One exception (maxDepthOnlyWhole): values nested
// under 10,000 deep on their own but deeper counted from the body's top,
// which json.Unmarshal refuses and the completions' own decoder accepts,
// as it does in a complete call.
func FuzzDecodeWorkRequestAsJSON(f *testing.F) {
	f.Add([]byte(`{"claim":{"max":2,"request_id":"r","wait_ms":100},"complete":{"robot_id":"x","items":[{"job_id":"j","token":7,"succeeded":true,"result":{},"node_status":{"a":"done"}}]}}`))
	f.Add([]byte(`{"complete":null,"claim":{"max":1,"have":[{"workflow_id":"w","version":1}]}}`))
	f.Add([]byte(`{"claim":{"max":1},"complete":{"items":[{"error":"a \u003cb\u003e","logs":[{"time":"2026-12-01T10:00:00Z","message":"m"}]}]},"Complete":{}}`))
	f.Add([]byte(`{"claim":{"max":1},"complete":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var want WorkRequest
		wantErr := json.Unmarshal(body, &want)
		got, err := DecodeWorkRequest(body)
		if maxDepthOnlyWhole(wantErr, err) {
			return
		}
		if wantErr != nil {
			if err == nil {
				t.Fatalf("accepted %q, which json.Unmarshal refuses: %v", body, wantErr)
			}
			return
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeWorkRequest(%q) = %+v; json.Unmarshal: %+v", body, got, want)
		}
		servable := want.Claim.Max > 0 && want.Claim.WaitMS >= 0 && (want.Complete == nil || len(want.Complete.Items) <= maxWorkCompletions)
		if err != nil && servable {
			t.Fatalf("refused %q, a servable request json.Unmarshal reads: %v", body, err)
		}
	})
}

// BenchmarkDecodeWorkRequest is a two-slot robot's call after two no-op
// jobs, as the robot writes it, decoded whole by json.Unmarshal and by
// DecodeWorkRequest.
func BenchmarkDecodeWorkRequest(b *testing.B) {
	body, err := json.Marshal(robotWorkRequest())
	if err != nil {
		b.Fatal(err)
	}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var req WorkRequest
			if err := json.Unmarshal(body, &req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DecodeWorkRequest(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// CheckContainers counts what decoding would cost per value, not what a
// result, checkpoint or debug stop's variables hold: those stay as
// encoded.
func TestCheckContainersSkipsRawValues(t *testing.T) {
	rows := strings.Repeat(`{"a":1},`, maxCallContainers) + `{}`
	for _, tt := range []struct {
		method, body string
		want         bool
	}{
		{MethodComplete, `{"items":[{"job_id":"j","result":[` + rows + `],"checkpoint":[` + rows + `]}]}`, true},
		{MethodWork, `{"claim":{"max":1},"complete":{"items":[{"result":[` + rows + `]}]}}`, true},
		{MethodProgress, `{"items":[{"job_id":"j","debug":{"variables":{"rows":[` + rows + `]}}}]}`, true},
		{MethodComplete, `{"items":[{"job_id":"j","debug":{"variables":{"rows":[` + rows + `]}}}]}`, true},
		{MethodWork, `{"claim":{"max":1},"complete":{"items":[{"debug":{"variables":[` + rows + `]}}]}}`, true},
		{MethodComplete, `{"items":[` + strings.Repeat(`{},`, maxCallContainers) + `{}]}`, false},
		{MethodComplete, `{"items":[{"node_status":{"result":[` + rows + `]}}]}`, false},
		{MethodProgress, `{"items":[{"result":[` + rows + `]}]}`, false},
		{MethodComplete, `{"items":[{"logs":[` + strings.Repeat(`{},`, maxCallContainers-5) + `{}]}]}`, true},
	} {
		err := CheckContainers(tt.method, []byte(tt.body))
		if (err == nil) != tt.want {
			t.Errorf("CheckContainers(%s, %.60s… of %d bytes): %v, want accepted %v", tt.method, tt.body, len(tt.body), err, tt.want)
		}
	}
}

// maxDepthOnlyWhole reports whether json.Unmarshal refused a body only
// for the nesting depth it counts over the whole body, which a fast
// decoder, checking each raw value on its own, does not count.
func maxDepthOnlyWhole(jsonErr, err error) bool {
	return err == nil && jsonErr != nil && strings.Contains(jsonErr.Error(), "exceeded max depth")
}
