package consensus

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// sampleSubmitGroups is what nodes write: every field decodeFast reads,
// and the ones it leaves to json.Unmarshal.
func sampleSubmitGroups() []SubmitGroupsCmd {
	at := time.Date(2026, 11, 30, 16, 0, 0, 123, time.UTC)
	return []SubmitGroupsCmd{
		{Groups: [][]JobSpec{{{ID: "j1", WorkflowID: "w1", ExecutionMode: "lan"}}}},
		{Groups: [][]JobSpec{{{ID: "j1", WorkflowID: "w1", ExecutionMode: "lan"}}}, Brief: true},
		{Groups: [][]JobSpec{{{ID: "j1", WorkflowID: "w1", ExecutionMode: "lan"}}}, Brief: true, More: true},
		{Groups: [][]JobSpec{
			{{ID: "a", WorkflowID: "w", WorkflowVersion: 3, Params: json.RawMessage(`{"n":1,"s":"x\"y","l":[1,{"z":null}]}`), Priority: 9,
				ExecutionMode: "any", RobotTags: []string{"gpu", "é"}, PinnedRobot: "r1", MaxAttempts: 5, Backoff: Duration(30 * time.Second),
				RerunOf: "old", UniqueKey: "k", NotBefore: at, Deadline: at.Add(time.Hour), ScheduleID: "s", FireTime: at.In(time.FixedZone("x", 3600))}},
			{},
			{{ID: "b", WorkflowID: "w", ExecutionMode: "internet", Params: json.RawMessage(`"plain"`), RobotTags: []string{}}},
		}},
		{Groups: [][]JobSpec{{{ID: "c", WorkflowID: "w", ExecutionMode: "lan", SealedParams: &SealedParams{}}}}},
		{Groups: [][]JobSpec{{{ID: "d", WorkflowID: "w", ExecutionMode: "lan", Debug: &DebugOptions{}}}}},
		{},
	}
}

// TestSubmitGroupsFastDecodeMatchesJSON decodes what nodes write, and
// hand-written variants, both ways.
func TestSubmitGroupsFastDecodeMatchesJSON(t *testing.T) {
	var payloads []string
	for _, cmd := range sampleSubmitGroups() {
		b, err := encodeJSON(cmd)
		if err != nil {
			t.Fatal(err)
		}
		payloads = append(payloads, string(b))
	}
	payloads = append(payloads,
		` { "groups" : [ [ { "id" : "x" , "priority" : -0 } ] ] } `,
		`{"groups":[[{"ID":"x"}]]}`,                            // another case: json.Unmarshal matches it
		`{"groups":[[{"id":"x","id":"y"}]]}`,                   // twice
		`{"groups":[[{"id":"a\u00e9"}]]}`,                      // an escape
		`{"groups":[[{"priority":1.0}]]}`,                      // not an int
		`{"groups":[[{"priority":01}]]}`,                       // invalid
		`{"groups":[[{"params":null}]]}`,                       // null
		`{"groups":[[{"params":{"a":}}]]}`,                     // invalid params
		`{"groups":[[{"not_before":"yesterday"}]]}`,            // a bad time
		`{"groups":[[{"backoff":"1m","id":"q"}]]}x`,            // trailing bytes
		`{"groups":[[{"id":"x"}]],"extra":1}`,                  // an unknown key
		`{"groups":[[{"id":"x"}]]`,                             // cut short
		"{\"groups\":[[{\"id\":\"\xff\"}]]}",                   // invalid UTF-8
		`{"groups":[[{"robot_tags":["a",2]}]]}`,                // a number among strings
		`{"groups":[[{"max_attempts":99999999999999999999}]]}`, // too large
		`{"groups":[],"brief":false}`,                          // false: json.Unmarshal reads it
		`{"groups":[],"brief":true,"brief":true}`,              // twice
		`{"groups":[],"brief":truex}`,                          // invalid
		`{"groups":[],"brief":true`,                            // cut short
		`{"groups":[],"brief":true,"more":false}`,              // false
		`{"groups":[],"brief":true,"more":true,"more":true}`,   // twice
		`{"groups":[],"more":true}`,                            // without brief: json.Unmarshal reads it
		`{"groups":[],"brief":true,"more":1}`,                  // not a boolean
	)
	fast := 0
	for _, p := range payloads {
		if compareDecodes[SubmitGroupsCmd](t, []byte(p)) {
			fast++
		}
	}
	// The first four samples and the hand-spaced one are plain: the
	// fast path must take them.
	if fast != 5 {
		t.Errorf("the fast path took %d payloads, want 5", fast)
	}
}

// fastDecoderOf is a pointer to a command T with a fast decoder.
type fastDecoderOf[T any] interface {
	*T
	fastDecoder
}

// compareDecodes checks that decodeFast, when it takes p, decodes it as
// json.Unmarshal does (and leaves the command untouched when it does
// not), and that decodePayload always does. It reports whether the fast
// path took p.
func compareDecodes[T any, P fastDecoderOf[T]](t *testing.T, p []byte) bool {
	t.Helper()
	var want, fast, got, zero T
	wantErr := json.Unmarshal(p, &want)
	took := P(&fast).decodeFast(p)
	if took && (wantErr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("decodeFast took %q as %+v; json.Unmarshal: %+v, %v", p, fast, want, wantErr)
	}
	if !took && !reflect.DeepEqual(fast, zero) {
		t.Fatalf("decodeFast refused %q but left %+v", p, fast)
	}
	err := decodePayload(p, &got)
	if (err == nil) != (wantErr == nil) || (err == nil && !reflect.DeepEqual(got, want)) {
		t.Fatalf("decodePayload(%q) = %+v, %v; json.Unmarshal: %+v, %v", p, got, err, want, wantErr)
	}
	return took
}

func FuzzSubmitGroupsFastDecode(f *testing.F) {
	for _, cmd := range sampleSubmitGroups() {
		b, err := encodeJSON(cmd)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"groups":[[{"id":"x","params":[1,"]",{"a":"}"}]}]]}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		compareDecodes[SubmitGroupsCmd](t, p)
	})
}

// BenchmarkSubmitGroupsDecode is a merged entry of 100 plain specs.
func BenchmarkSubmitGroupsDecode(b *testing.B) {
	var group []JobSpec
	for range 100 {
		group = append(group, JobSpec{ID: "0190c1d4-8a3f-7b2e-9f10-5d6e7f8a9b0c", WorkflowID: "0190c1d4-0000-7b2e-9f10-5d6e7f8a9b0c", ExecutionMode: "lan"})
	}
	p, err := encodeJSON(SubmitGroupsCmd{Groups: [][]JobSpec{group}})
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
				var cmd SubmitGroupsCmd
				if err := c.decode(p, &cmd); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
