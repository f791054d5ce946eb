package api

import (
	"reflect"
	"testing"

	"github.com/casare/casare/internal/plainjson"
)

// FuzzDecodeJobsFast holds decodeJobs to decodeStrict for any body, as a
// batch and as one job: the same request, or the same error. Seeds in
// the plain form reach the fast reader, the others its hand-over.
func FuzzDecodeJobsFast(f *testing.F) {
	f.Add([]byte(`{"jobs":[{"workflow_id":"w1","params":{"a": [1, {"b":"}"}]},"priority":3},{"workflow_id":"w2"}]}`))
	f.Add([]byte(` { "jobs" : [ { "workflow_id" : "w" , "workflow_version" : 2 , "execution_mode" : "lan" , "robot_tags" : [ "a" , "b" ] , "pinned_robot" : "r" , "unique_key" : "k" , "max_attempts" : 4 , "backoff" : "2s" , "not_before" : "2026-01-01T00:00:00Z" , "deadline" : "2027-01-01T00:00:00Z" } ] } `))
	f.Add([]byte(`{"jobs":[]}`))
	f.Add([]byte(`{"jobs":[{}]}`))
	f.Add([]byte(`{"jobs":null}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","workflow_id":"x"}]}`))
	f.Add([]byte(`{"jobs":[{"Workflow_ID":"w"}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"a\"b","robot_tags":[]}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","priority":1.0}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","priority":01}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","priority":-0}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","workflow_version":99999999999999999999}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","params":{"a":1]}}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","params":null}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w","debug":{}}]}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"é\t"}]} x`))
	f.Add([]byte(`{"workflow_id":"w","params":{"s":"x\\"}}`))
	f.Add([]byte(`{"jobs":[{"workflow_id":"w"}],"more":1}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast, slow BatchJobsRequest
		fastErr, slowErr := decodeJobs(body, &fast, nil), decodeStrict(body, &slow)
		if !reflect.DeepEqual(fastErr, slowErr) || !reflect.DeepEqual(fast, slow) {
			t.Fatalf("batch %q:\ndecodeJobs   %#v, %v\ndecodeStrict %#v, %v", body, fast, fastErr, slow, slowErr)
		}
		var fastOne, slowOne JobRequest
		fastErr, slowErr = decodeJobs(body, nil, &fastOne), decodeStrict(body, &slowOne)
		if !reflect.DeepEqual(fastErr, slowErr) || !reflect.DeepEqual(fastOne, slowOne) {
			t.Fatalf("job %q:\ndecodeJobs   %#v, %v\ndecodeStrict %#v, %v", body, fastOne, fastErr, slowOne, slowErr)
		}
	})
}

// TestDecodeJobsFastReadsThePlainForm checks that the plain form is read
// by the fast reader, not handed over: the fuzzer's equality alone would
// hold with a reader that never succeeds.
func TestDecodeJobsFastReadsThePlainForm(t *testing.T) {
	body := []byte(`{"jobs":[{"workflow_id":"w1","params":{"a":1},"priority":3,"robot_tags":["x"]},{"workflow_id":"w2","max_attempts":2}]}`)
	var req BatchJobsRequest
	d := jobsDecoder{Decoder: plainjson.Decoder{Buf: body}}
	if !d.readBatch(&req) || d.Space() != len(body) {
		t.Fatalf("the fast reader refused a plain batch at offset %d", d.Pos)
	}
	if len(req.Jobs) != 2 || req.Jobs[0].WorkflowID != "w1" || *req.Jobs[0].Priority != 3 || string(req.Jobs[0].Params) != `{"a":1}` ||
		req.Jobs[0].RobotTags[0] != "x" || *req.Jobs[1].MaxAttempts != 2 {
		t.Fatalf("read %+v", req.Jobs)
	}
	one := []byte(`{"workflow_id":"w","unique_key":"k"}`)
	var j JobRequest
	d = jobsDecoder{Decoder: plainjson.Decoder{Buf: one}}
	if !d.readJob(&j) || d.Space() != len(one) || j.UniqueKey != "k" {
		t.Fatalf("the fast reader refused a plain job: %+v", j)
	}
}
