package gatewayproto

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

// robotWorkRequest is a two-slot robot's call after two no-op jobs, as
// the robot builds it.
func robotWorkRequest() WorkRequest {
	at := time.Date(2026, 12, 1, 14, 0, 0, 123456789, time.UTC)
	done := func(id string, token uint64) consensus.Completion {
		return consensus.Completion{JobID: id, Token: token, Succeeded: true, Result: json.RawMessage(`{}`),
			Logs:       []consensus.LogLine{{Time: at, Level: "info", NodeID: "start", Message: "node start finished"}},
			NodeStatus: map[string]string{"start": "done", "end": "done"}}
	}
	return WorkRequest{
		Claim: ClaimRequest{Max: 2, RequestID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0d", WaitMS: 20000, Compact: true,
			Have: []consensus.GraphRef{{WorkflowID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0e", Version: 1}}},
		Complete: &consensus.CompleteCmd{Items: []consensus.Completion{
			done("0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0c", 1041), done("0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0f", 1042)}},
	}
}

// What a robot usually sends is written and read without reflection,
// and reads back as it was.
func TestWorkRequestTakesTheFastPaths(t *testing.T) {
	want := robotWorkRequest()
	body, ok := want.appendFast(nil)
	if !ok {
		t.Fatalf("a robot's usual work call is not written by appendFast")
	}
	got, ok := decodeWorkFast(body)
	if !ok {
		t.Fatalf("a robot's usual work call is not read by decodeWorkFast: %s", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v\nwant %+v", got, want)
	}
	marshalled, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != string(marshalled) {
		t.Fatalf("appendFast wrote %s\njson.Marshal writes %s", body, marshalled)
	}
}

// FuzzWorkRequestAppendJSON: whatever a robot's work call holds, what
// AppendJSON writes is one JSON value that reads back as what
// json.Marshal writes reads back. The two are compared marshalled again:
// AppendJSON leaves HTML characters in a result unescaped, which a
// json.RawMessage keeps as it read them.
func FuzzWorkRequestAppendJSON(f *testing.F) {
	f.Add(2, "req-1", 100, "wf", 1, true, "job-1", uint64(7), []byte(`{"a":[1,"x"]}`), "", "start", "done")
	f.Add(1, "r<>&\"", 0, "w\u00e9", 0, false, "j\n", uint64(0), []byte(` { "a" : 1 } `), "bad <b>", "", "")
	f.Add(0, "", -1, "", -3, false, "", uint64(1<<63), []byte(`not json`), "\xff", "k", "\x00")
	f.Add(1, "r", 1, "", 0, false, "j", uint64(1), []byte(`"<"`), "", "", "")
	f.Fuzz(func(t *testing.T, max int, requestID string, wait int, workflow string, version int, compact bool,
		jobID string, token uint64, result []byte, errText, nodeID, status string) {
		req := WorkRequest{Claim: ClaimRequest{Max: max, RequestID: requestID, WaitMS: wait, Compact: compact}}
		if workflow != "" {
			req.Claim.Have = []consensus.GraphRef{{WorkflowID: workflow, Version: version}}
		}
		if jobID != "" {
			req.Complete = &consensus.CompleteCmd{Items: []consensus.Completion{{JobID: jobID, Token: token,
				Result: result, Error: errText, NodeStatus: map[string]string{nodeID: status}}}}
		}
		marshalled, marshalErr := json.Marshal(req)
		body, err := req.AppendJSON([]byte("prefix"))
		if (err != nil) != (marshalErr != nil) {
			t.Fatalf("AppendJSON: %v; json.Marshal: %v", err, marshalErr)
		}
		if err != nil {
			return
		}
		if string(body[:6]) != "prefix" {
			t.Fatalf("AppendJSON overwrote what buf held: %q", body)
		}
		body = body[6:]
		if !json.Valid(body) {
			t.Fatalf("AppendJSON wrote invalid JSON: %s", body)
		}
		var got, want WorkRequest
		if err := json.Unmarshal(body, &got); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		if err := json.Unmarshal(marshalled, &want); err != nil {
			t.Fatalf("%s: %v", marshalled, err)
		}
		gotAgain, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		wantAgain, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if string(gotAgain) != string(wantAgain) {
			t.Fatalf("AppendJSON's %s reads as %s\njson.Marshal's %s as %s", body, gotAgain, marshalled, wantAgain)
		}
	})
}
