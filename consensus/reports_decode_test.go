package consensus

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// sampleRobotReports is what nodes write: every field decodeFast reads,
// and a debug report, which it leaves to json.Unmarshal.
func sampleRobotReports() []RobotReportsCmd {
	at := time.Date(2026, 11, 30, 16, 0, 0, 123, time.UTC)
	logs := []LogLine{{Time: at, Level: "info", NodeID: "start", Message: "started"}, {Time: at.In(time.FixedZone("x", 3600)), Level: "warn", Message: "é"}}
	return []RobotReportsCmd{
		{Reports: []RobotReport{{Complete: &CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: "j1", Token: 42, Succeeded: true}}}}}},
		{Reports: []RobotReport{
			{Progress: &ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Token: 7, Checkpoint: json.RawMessage(`{"n":[1,2]}`), Logs: logs, LogsEnd: 9, NodeStatus: map[string]string{"start": "done"}}}}},
			{Complete: &CompleteCmd{RobotID: "r2", Items: []Completion{
				{JobID: "j2", Token: 18446744073709551615, Result: json.RawMessage(`{"ok":true}`), Error: "no", FailureKind: FailureBusiness,
					Checkpoint: json.RawMessage(`"c"`), Logs: logs, LogsEnd: 2, NodeStatus: map[string]string{}, StoreSecrets: map[string]string{"a": "b"}},
				{JobID: "j3"},
			}}},
			{Progress: &ProgressCmd{RobotID: "r3", Items: []Progress{}}},
		}},
		{Reports: []RobotReport{{Progress: &ProgressCmd{RobotID: "r1", Items: []Progress{{JobID: "j1", Debug: &DebugReport{}}}}}}},
		{},
	}
}

// TestRobotReportsFastDecodeMatchesJSON decodes what nodes write, and
// hand-written variants, both ways.
func TestRobotReportsFastDecodeMatchesJSON(t *testing.T) {
	var payloads []string
	for _, cmd := range sampleRobotReports() {
		b, err := encodeJSON(cmd)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, string(b))
	}
	payloads = append(payloads,
		` { "reports" : [ { "complete" : { "robot_id" : "r" , "items" : [ { "token" : 0 , "succeeded" : false } ] } } ] } `,
		`{"reports":[{"complete":{"items":[{"node_status":{"a":"1","a":"2"}}]}}]}`, // a map key twice: the last wins
		`{"reports":null}`,
		`{"reports":[{"progress":null}]}`,
		`{"reports":[{}]}`,
		`{"Reports":[]}`, // another case: json.Unmarshal matches it
		`{"reports":[],"reports":[]}`,
		`{"reports":[{"complete":{"items":[{"token":-1}]}}]}`,
		`{"reports":[{"complete":{"items":[{"token":1.5}]}}]}`,
		`{"reports":[{"complete":{"items":[{"token":01}]}}]}`,
		`{"reports":[{"complete":{"items":[{"token":99999999999999999999}]}}]}`,
		`{"reports":[{"complete":{"items":[{"logs_end":-1}]}}]}`,
		`{"reports":[{"progress":{"items":[{"logs_end":9223372036854775808}]}}]}`,
		`{"reports":[{"progress":{"items":[{"logs_end":2.0}]}}]}`,
		`{"reports":[{"progress":{"items":[{"logs_end":1,"logs_end":2}]}}]}`,
		`{"reports":[{"complete":{"items":[{"succeeded":truex}]}}]}`,
		`{"reports":[{"complete":{"items":[{"succeeded":1}]}}]}`,
		`{"reports":[{"complete":{"items":[{"error":"a\"b"}]}}]}`,
		`{"reports":[{"complete":{"items":[{"result":null}]}}]}`,
		`{"reports":[{"complete":{"items":[{"result":{"a":}}]}}]}`,
		`{"reports":[{"complete":{"items":[{"logs":[{"time":"yesterday"}]}]}}]}`,
		`{"reports":[{"complete":{"items":[{"node_status":{"a":1}}]}}]}`,
		`{"reports":[{"complete":{"items":[{"extra":1}]}}]}`,
		`{"reports":[{"complete":{"items":[]}}]}x`,
		`{"reports":[{"complete":{"items":[]}}]`,
		"{\"reports\":[{\"complete\":{\"robot_id\":\"\xff\"}}]}",
	)
	fast := 0
	for _, p := range payloads {
		if compareDecodes[RobotReportsCmd](t, []byte(p)) {
			fast++
		}
	}
	// The first two samples, the hand-spaced one, the repeated map key,
	// the empty report and the negative logs_end (which the store refuses
	// before Raft, but an entry is decoded as json.Unmarshal would) are
	// plain.
	if fast != 6 {
		t.Errorf("the fast path took %d payloads, want 6", fast)
	}
}

func FuzzRobotReportsFastDecode(f *testing.F) {
	for _, cmd := range sampleRobotReports() {
		b, err := encodeJSON(cmd)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		compareDecodes[RobotReportsCmd](t, p)
	})
}

// BenchmarkRobotReportsDecode is a merged entry of 100 completions, as a
// node's LAN robots send them for no-op jobs.
func BenchmarkRobotReportsDecode(b *testing.B) {
	at := time.Date(2026, 11, 30, 16, 0, 0, 123, time.UTC)
	var reports []RobotReport
	for i := range 100 {
		reports = append(reports, RobotReport{Complete: &CompleteCmd{RobotID: "n1-robot", Items: []Completion{{
			JobID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0c", Token: uint64(1000 + i), Succeeded: true, Result: json.RawMessage(`{}`),
			Logs:       []LogLine{{Time: at, Level: "info", NodeID: "start", Message: "node start finished"}},
			NodeStatus: map[string]string{"start": "done", "end": "done"},
		}}}})
	}
	p, err := encodeJSON(RobotReportsCmd{Reports: reports})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		decode func([]byte, any) error
	}{{"json", json.Unmarshal}, {"fast", decodePayload}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var cmd RobotReportsCmd
				if err := c.decode(p, &cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzProgressCmdFastDecode: a ProgressCmd's fast decoder, and
// DecodeJSON, decode what json.Unmarshal decodes, as json.Unmarshal does,
// and DecodeJSON refuses what it refuses.
func FuzzProgressCmdFastDecode(f *testing.F) {
	for _, cmd := range sampleRobotReports() {
		for _, r := range cmd.Reports {
			if r.Progress == nil {
				continue
			}
			for _, encode := range []func(any) ([]byte, error){json.Marshal, encodeJSON} {
				b, err := encode(r.Progress)
				if err != nil {
					f.Fatal(err)
				}
				f.Add(b)
			}
		}
	}
	f.Add([]byte(`{"items":[{"job_id":"j","token":1,"logs":[{"message":"m"}],"logs_end":1}],"robot_id":"r"}`))
	f.Add([]byte(`{"items":[{"job_id":"j","checkpoint":null}]}`))
	f.Fuzz(decodesAsUnmarshal[ProgressCmd])
}

// FuzzCompleteCmdFastDecode: a CompleteCmd's fast decoder, and
// DecodeJSON, decode what json.Unmarshal decodes, as json.Unmarshal does,
// and DecodeJSON refuses what it refuses. Seeds are the completions as
// robots write them (json.Marshal, which escapes HTML) and as nodes do.
func FuzzCompleteCmdFastDecode(f *testing.F) {
	for _, cmd := range sampleRobotReports() {
		for _, r := range cmd.Reports {
			if r.Complete == nil {
				continue
			}
			b, err := json.Marshal(r.Complete)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
			if b, err = encodeJSON(r.Complete); err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(` {"Items":[{"job_id":"j","token":1}],"robot_id":"r"} `))
	f.Add([]byte(`{"items":[{"job_id":"j","job_id":"k"}]}`))
	f.Fuzz(decodesAsUnmarshal[CompleteCmd])
}

// decodesAsUnmarshal checks T's fast decoder against json.Unmarshal
// (compareDecodes), and DecodeJSON too: it decodes what json.Unmarshal
// decodes, as json.Unmarshal does, and refuses what it refuses.
func decodesAsUnmarshal[T any, P fastDecoderOf[T]](t *testing.T, p []byte) {
	compareDecodes[T, P](t, p)
	var want, got T
	wantErr, err := json.Unmarshal(p, &want), DecodeJSON(p, &got)
	if (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("DecodeJSON(%q) = %+v, %v; json.Unmarshal: %+v, %v", p, got, err, want, wantErr)
	}
}
