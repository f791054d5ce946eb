//go:build unix

package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestReadSnapshotTimingReadsTheNodesLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	before := "time=2026-11-30T14:36:56.418Z level=INFO msg=\"state encoded for a snapshot\" node=n1 part=fsm index=3 jobs=1 bytes=99 took=9ms\n"
	log := `time=2026-11-30T14:40:00.000Z level=INFO msg="state encoded for a snapshot" node=n1 part=fsm index=1200 jobs=1000000 bytes=252000000 took=2.5s
time=2026-11-30T14:40:00.100Z level=INFO msg="starting snapshot up to" node=n1 part=consensus component=raft raft.index=1200
`
	if err := os.WriteFile(path, []byte(before+log), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readSnapshotTiming(path, int64(len(before)))
	if err != nil {
		t.Fatal(err)
	}
	if got.done || got.encode != 2500*time.Millisecond || got.bytes != 252000000 {
		t.Fatalf("before completion: %+v", got)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(`time=2026-11-30T14:40:01.350Z level=INFO msg="snapshot complete up to" node=n1 part=consensus component=raft raft.index=1200` + "\n")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got, err = readSnapshotTiming(path, int64(len(before))); err != nil {
		t.Fatal(err)
	}
	if !got.done || got.persist != 1250*time.Millisecond || got.encode != 2500*time.Millisecond || got.stall() != got.encode {
		t.Fatalf("after completion: %+v", got)
	}
}

func TestReadSnapshotTimingTellsTheCaptureFromTheEncoding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "node.log")
	log := `time=2026-11-30T14:40:00.000Z level=INFO msg="state captured for a snapshot" node=n1 part=fsm index=1200 jobs=1000000 took=1.5ms
time=2026-11-30T14:40:00.100Z level=INFO msg="starting snapshot up to" node=n1 part=consensus component=raft raft.index=1200
time=2026-11-30T14:40:03.000Z level=INFO msg="state encoded for a snapshot" node=n1 part=fsm index=1200 jobs=1000000 bytes=252000000 took=2.8s
time=2026-11-30T14:40:03.100Z level=INFO msg="snapshot complete up to" node=n1 part=consensus component=raft raft.index=1200
`
	if err := os.WriteFile(path, []byte(log), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := readSnapshotTiming(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !got.done || got.stall() != 1500*time.Microsecond || got.encode != 2800*time.Millisecond || got.persist != 3*time.Second || got.bytes != 252000000 {
		t.Fatalf("timing %+v, stall %s", got, got.stall())
	}
}
