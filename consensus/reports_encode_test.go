package consensus

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

func FuzzRobotReportsAppendFast(f *testing.F) {
	f.Add("r1", "019a-job", []byte(`{"a":1}`), "info", "ran <&>", "n1", int64(1_700_000_000), int64(7), uint8(0))
	f.Add("r é", "j\"1", []byte(`{"a": 1}`), "", "", "", int64(0), int64(-1), uint8(255))
	f.Add("r1", "j1", []byte(`{"a":`), "warn", "x\\y", "n 2", int64(300_000_000_000), int64(1500), uint8(12))
	f.Add("r1", "j1", []byte(nil), "info", "\u2028", "n1", int64(-70_000_000_000), int64(3), uint8(48))
	f.Fuzz(func(t *testing.T, robot, job string, raw []byte, level, msg, node string, unix, n int64, flags uint8) {
		at := time.Unix(unix, n%1e9).UTC()
		logs := []LogLine{{Time: at, Level: level, NodeID: node, Message: msg}, {Time: at, Level: level, Message: robot}}
		status := map[string]string{node: msg, "b": level, job: robot}
		prog := Progress{JobID: job, Token: uint64(n), Checkpoint: raw}
		done := Completion{JobID: job, Token: uint64(unix), Succeeded: flags&1 != 0, Result: raw, Error: msg, FailureKind: level}
		if flags&2 != 0 {
			prog.Logs, prog.NodeStatus, prog.LogsEnd = logs, status, int(n)
			done.Logs, done.NodeStatus, done.LogsEnd, done.Checkpoint = logs, status, int(n), raw
		}
		if flags&4 != 0 {
			prog.Logs, done.NodeStatus = []LogLine{}, map[string]string{}
		}
		if flags&8 != 0 {
			done.Debug = &DebugReport{}
		}
		if flags&16 != 0 {
			done.StoreSecrets = map[string]string{"s": msg}
		}
		reports := []RobotReport{
			{Progress: &ProgressCmd{RobotID: robot, Items: []Progress{prog, prog}}},
			{Complete: &CompleteCmd{RobotID: robot, Items: []Completion{done}}},
			{},
		}
		if flags&32 != 0 {
			reports = append(reports, RobotReport{Progress: &ProgressCmd{RobotID: robot, Items: []Progress{}}, Complete: &CompleteCmd{RobotID: job, Items: []Completion{}}})
		}
		if flags&64 != 0 {
			reports = []RobotReport{}
		}
		cmd := RobotReportsCmd{Reports: reports}
		checkAppendFast(t, &cmd)
	})
}

// TestRobotReportsAppendFastWritesPlainReports checks that reports as
// robots send them take the fast path, and that an entry so written
// decodes under encoding/json (an older node's decoder) as it was: the
// fuzzer's equality alone would hold with an appendFast that always
// refused.
func TestRobotReportsAppendFastWritesPlainReports(t *testing.T) {
	at := time.Date(2026, 12, 1, 6, 30, 0, 123456789, time.UTC)
	cmd := RobotReportsCmd{Reports: []RobotReport{
		{Complete: &CompleteCmd{RobotID: "r1", Items: []Completion{{JobID: "019a", Token: 42, Succeeded: true, Result: []byte(`{"ok":true}`),
			Logs: []LogLine{{Time: at, Level: "info", NodeID: "n1", Message: "done <ok>"}}, LogsEnd: 1, NodeStatus: map[string]string{"start": "done", "end": "done"}}}}},
		{Progress: &ProgressCmd{RobotID: "r2", Items: []Progress{{JobID: "019b", Token: 43, Checkpoint: []byte(`{"step":2}`)}}}},
	}}
	if _, ok := cmd.appendFast(nil); !ok {
		t.Fatal("appendFast refused plain reports")
	}
	buf, err := encodeCommand(cmdRobotReports, cmd)
	if err != nil {
		t.Fatal(err)
	}
	typ, _, payload, err := splitCommand(buf)
	if err != nil || typ != cmdRobotReports {
		t.Fatalf("envelope %d: %v", typ, err)
	}
	var back RobotReportsCmd
	if err := json.Unmarshal(payload, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, cmd) {
		t.Errorf("encoding/json read back\n%+v\nfrom %s", back, payload)
	}
}
