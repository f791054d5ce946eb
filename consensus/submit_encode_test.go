package consensus

import (
	"bytes"
	"testing"
	"time"
)

// FuzzSubmitGroupsAppendFast holds the hand-written encoding of a merged
// submit to encodeJSON's: when appendFast writes the command, the bytes
// are the same.
func FuzzSubmitGroupsAppendFast(f *testing.F) {
	f.Add("019a-id", "w1", []byte(`{"a":1}`), int64(3), int64(1_700_000_000), uint8(0))
	f.Add("id<&>", "w 1", []byte(`{"a": "b c", "d":[1,2]}`), int64(-1), int64(1_700_000_000), uint8(255))
	f.Add("id", "é", []byte(`{"s":"x\"y\\"}`), int64(1500), int64(0), uint8(6))
	f.Add("id", "w", []byte(`{"a":`), int64(7), int64(300_000_000_000), uint8(12))
	f.Add("id", "w", []byte(nil), int64(0), int64(-70_000_000_000), uint8(48))
	f.Fuzz(func(t *testing.T, id, wf string, params []byte, n, unix int64, flags uint8) {
		at := time.Unix(unix, n%1e9).UTC()
		spec := JobSpec{ID: id, WorkflowID: wf, Params: params, Priority: int(n % 10), ExecutionMode: ModeLAN}
		if flags&1 != 0 {
			spec.WorkflowVersion, spec.MaxAttempts, spec.Backoff = int(n), int(n>>3), Duration(n)
		}
		if flags&2 != 0 {
			spec.RobotTags, spec.PinnedRobot, spec.UniqueKey, spec.RerunOf, spec.ScheduleID = []string{id, wf}, wf, id, wf, id
		}
		if flags&4 != 0 {
			spec.NotBefore, spec.Deadline, spec.FireTime = at, at.Add(time.Hour), at
		}
		if flags&8 != 0 {
			spec.Debug = &DebugOptions{Breakpoints: []string{id}}
		}
		if flags&16 != 0 {
			spec.RobotTags = []string{}
		}
		groups := [][]JobSpec{{spec, spec}, nil, {spec}}
		if flags&32 != 0 {
			groups = [][]JobSpec{}
		}
		cmd := SubmitGroupsCmd{Groups: groups, Brief: flags&64 != 0, More: flags&128 != 0}
		checkAppendFast(t, &cmd)
	})
}

// TestSubmitGroupsAppendFastWritesPlainSpecs checks that a submit as the
// API makes it takes the fast path: the fuzzer's equality alone would
// hold with an appendFast that always refused.
func TestSubmitGroupsAppendFastWritesPlainSpecs(t *testing.T) {
	cmd := SubmitGroupsCmd{Groups: [][]JobSpec{{{ID: "019a", WorkflowID: "w1", Params: []byte(`{"a":"b c"}`), Priority: 5, ExecutionMode: ModeLAN, Backoff: Duration(2 * time.Second)}}}, Brief: true}
	buf, err := encodeCommand(cmdSubmitGroups, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cmd.appendFast(nil); !ok {
		t.Fatal("appendFast refused a plain submit")
	}
	typ, _, payload, err := splitCommand(buf)
	if err != nil || typ != cmdSubmitGroups {
		t.Fatalf("envelope %d: %v", typ, err)
	}
	want, _ := encodeJSON(cmd)
	if !bytes.Equal(payload, want) {
		t.Fatalf("payload %s, want %s", payload, want)
	}
}

// fastAppender is a command with a hand-written encoder beside
// encodeJSON.
type fastAppender interface {
	appendFast(dst []byte) ([]byte, bool)
}

// checkAppendFast fails t when cmd's hand-written encoding, where it
// takes one, differs from encodeJSON's byte for byte.
func checkAppendFast(t *testing.T, cmd fastAppender) {
	t.Helper()
	got, ok := cmd.appendFast([]byte("pre"))
	if !ok {
		return
	}
	want, err := encodeJSON(cmd)
	if err != nil {
		t.Fatalf("appendFast wrote %s where encodeJSON fails: %v", got, err)
	}
	if !bytes.Equal(got, append([]byte("pre"), want...)) {
		t.Fatalf("appendFast wrote\npre%s\nencodeJSON wrote\npre%s", got[3:], want)
	}
}
