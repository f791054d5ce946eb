package gatewayproto

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/casare/casare/consensus"
)

// robotWorkAnswer is the gateway's answer to robotWorkRequest: two jobs
// claimed, two completions acknowledged.
func robotWorkAnswer() WorkAnswer {
	until := time.Date(2026, 12, 1, 14, 0, 30, 123456789, time.UTC)
	job := func(id string, token uint64) WorkJob {
		return WorkJob{ID: id, WorkflowID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0e", WorkflowVersion: 1,
			Params: json.RawMessage(`{"n":1}`), Attempt: 1, Token: token}
	}
	return WorkAnswer{
		Compact: []WorkJob{job("0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b10", 1043), job("0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b11", 1044)},
		Acks: []consensus.Ack{{JobID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0c", OK: true, State: consensus.JobSucceeded, Deadline: until},
			{JobID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0f", OK: false, Stop: true, Reason: "lease lost", Waited: 1500 * time.Microsecond}},
	}
}

// The gateway's usual answer is written and read without reflection,
// as json.Marshal writes it, and reads back as it was.
func TestWorkAnswerTakesTheFastPaths(t *testing.T) {
	want := robotWorkAnswer()
	body, ok := want.appendFast(nil)
	if !ok {
		t.Fatalf("the usual work answer is not written by appendFast")
	}
	marshalled, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != string(marshalled) {
		t.Fatalf("appendFast wrote %s\njson.Marshal writes %s", body, marshalled)
	}
	var got WorkAnswer
	if !decodeAnswerFast(body, &got) {
		t.Fatalf("the usual work answer is not read by decodeAnswerFast: %s", body)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v\nwant %+v", got, want)
	}
}

// FuzzWorkAnswerAppendJSON: whatever an answer holds, AppendJSON writes
// what json.Marshal writes, byte for byte, after what buf held.
func FuzzWorkAnswerAppendJSON(f *testing.F) {
	f.Add("job-1", "wf", 1, []byte(`{"n":1}`), uint64(7), []byte(nil), []byte(`{"nodes":[]}`), "", true, false, "succeeded", "", int64(1764597630), int64(0), "")
	f.Add("j<", "w\u00e9", -1, []byte(` {"a" : "<b>"} `), uint64(1<<63), []byte(`null`), []byte(nil), "no key", false, true, "a\"b", "r\n", int64(-1), int64(-5), "bad & worse")
	f.Add("", "", 0, []byte(`nope`), uint64(0), []byte(`[1,2]`), []byte(`{"a":"\u2028"}`), "\xff", false, false, "", "", int64(253402300800), int64(3), "")
	f.Fuzz(func(t *testing.T, id, workflow string, version int, params []byte, token uint64, checkpoint, graph []byte,
		secretError string, ok, stop bool, state, reason string, deadline, waited int64, completeError string) {
		a := WorkAnswer{CompleteError: completeError}
		if id != "" {
			job := WorkJob{ID: id, WorkflowID: workflow, WorkflowVersion: version, Params: params, Attempt: version + 1, Token: token,
				Checkpoint: checkpoint, Graph: graph, SecretError: secretError, SecretErrorKind: reason}
			a.Compact = []WorkJob{job, job}
		}
		a.Acks = []consensus.Ack{{JobID: id, OK: ok, Stop: stop, State: consensus.JobState(state), Reason: reason, Waited: time.Duration(waited)},
			{JobID: workflow, OK: !ok}}
		if deadline != 0 {
			a.Acks[0].Deadline = time.Unix(deadline, 0).UTC()
		}
		marshalled, marshalErr := json.Marshal(&a)
		body, err := a.AppendJSON([]byte("prefix"))
		if (err != nil) != (marshalErr != nil) {
			t.Fatalf("AppendJSON: %v; json.Marshal: %v", err, marshalErr)
		}
		if err == nil && string(body) != "prefix"+string(marshalled) {
			t.Fatalf("AppendJSON wrote %s\njson.Marshal writes prefix%s", body, marshalled)
		}
	})
}

// FuzzDecodeWorkAnswerAsJSON: DecodeWorkAnswer reads what json.Unmarshal
// reads, and refuses what it refuses, but for the depth json.Unmarshal
// counts over the whole body (maxDepthOnlyWhole).
func FuzzDecodeWorkAnswerAsJSON(f *testing.F) {
	good, err := json.Marshal(robotWorkAnswer())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"compact":[{"id":"j","workflow_id":"w","workflow_version":1,"attempt":1,"token":2,"graph":{"nodes":[]},"secrets":{"k":"v"}}]}`))
	f.Add([]byte(`{"acks":[{"job_id":"j","ok":true,"lease_expires_at":"2026-12-01T14:00:30Z","debug":{"command":"resume"}}],"complete_error":"x"}`))
	f.Add([]byte(`{"jobs":[{"job":{"id":"j"}}],"Acks":[],"acks":null}`))
	f.Add([]byte(`{"compact":[{"id":"j","params":null,"token":-1}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var want, got WorkAnswer
		wantErr := json.Unmarshal(body, &want)
		err := DecodeWorkAnswer(body, &got)
		if maxDepthOnlyWhole(wantErr, err) {
			return
		}
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("DecodeWorkAnswer(%q): %v; json.Unmarshal: %v", body, err, wantErr)
		}
		if err == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeWorkAnswer(%q) = %+v\njson.Unmarshal: %+v", body, got, want)
		}
	})
}

// BenchmarkWorkCodecs compares, for a two-slot robot's work call and
// its answer, encoding/json with the codecs a robot and a gateway use.
func BenchmarkWorkCodecs(b *testing.B) {
	req, ans := robotWorkRequest(), robotWorkAnswer()
	ansBody, err := json.Marshal(ans)
	if err != nil {
		b.Fatal(err)
	}
	for name, run := range map[string]func() error{
		"request-encode/json": func() error { _, err := json.Marshal(req); return err },
		"request-encode/fast": func() error { _, err := req.AppendJSON(nil); return err },
		"answer-encode/json":  func() error { _, err := json.Marshal(ans); return err },
		"answer-encode/fast":  func() error { _, err := ans.AppendJSON(nil); return err },
		"answer-decode/json":  func() error { var a WorkAnswer; return json.Unmarshal(ansBody, &a) },
		"answer-decode/fast":  func() error { var a WorkAnswer; return DecodeWorkAnswer(ansBody, &a) },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
