package gatewayproto

import (
	"encoding/json"
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
