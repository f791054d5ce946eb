//go:build unix

package main

import (
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the bench program when the
// real-process bench starts itself again as the raw Raft helper.
func TestMain(m *testing.M) {
	if slices.Contains(os.Args[1:], "-rawraft-helper") {
		main()
		return
	}
	os.Exit(m.Run())
}

// smokeRun are the windows of TestProcsBenchSmoke: long enough that each
// figure completes requests, short enough that the whole run (two
// three-process clusters) takes well under half a minute.
var smokeRun = durations{warm: 200 * time.Millisecond, raft: 700 * time.Millisecond, submit: 700 * time.Millisecond,
	latency: 700 * time.Millisecond, e2eTimeout: 30 * time.Second, limit: 2 * time.Minute}

// TestProcsBenchSmoke runs the real-process bench end to end with tiny
// windows: three casare processes built from this tree, the raw Raft
// helper, every figure. It keeps `make bench` from rotting: each figure
// must come out with a positive value, and with -cpuprofile each node
// must leave a profile of each profiled figure, the leader's marked.
func TestProcsBenchSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "casare")
	// go test puts its own go first on PATH.
	build := exec.Command("go", "build", "-o", bin, "github.com/casare/casare/cmd/casare")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build casare: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), smokeRun.limit)
	defer cancel()
	profiles := t.TempDir()
	b := &bench{cfg: config{bin: bin, capacity: 50, e2eJobs: 1000, latencyRate: 50, quick: true, cpuprofile: profiles}, d: smokeRun}
	if err := b.runProcs(ctx, t.TempDir()); err != nil {
		t.Fatalf("real-process bench: %v", err)
	}
	b.rep.print(os.Stdout)
	if len(b.rep.rows) != 9 {
		t.Fatalf("%d figures, want 9 (raw Raft plain, TLS before and after, the yardstick, single, batched, end-to-end, claim p50, p99)", len(b.rep.rows))
	}
	before, after, yardstick := b.rep.rows[1].value, b.rep.rows[2].value, b.rep.rows[3].value
	if yardstick != max(before, after) {
		t.Errorf("yardstick %v, want the higher of %v and %v", yardstick, before, after)
	}
	for _, r := range b.rep.rows[4:] {
		if r.ratioTarget != nil && r.ratio != r.value/yardstick {
			t.Errorf("%s: ratio %v, want %v / %v", r.figure, r.ratio, r.value, yardstick)
		}
	}
	for _, figure := range []string{"procs-submit-single", "procs-submit-batch", "procs-e2e"} {
		all, _ := filepath.Glob(filepath.Join(profiles, figure+"-n*.pprof"))
		allocs, _ := filepath.Glob(filepath.Join(profiles, figure+"-n*.allocs.pprof"))
		leader, _ := filepath.Glob(filepath.Join(profiles, figure+"-n*-leader.pprof"))
		if len(all)-len(allocs) != procSize || len(allocs) != procSize || len(leader) != 1 {
			t.Errorf("%s: %d node CPU profiles (%d marked leader) and %d allocation profiles, want %d (1) and %d",
				figure, len(all)-len(allocs), len(leader), len(allocs), procSize, procSize)
		}
	}
	for _, r := range b.rep.rows {
		// A probe job may start before its submit's 2xx reaches the
		// load generator (the leader announces the submit to its robots
		// before it commits), so claim latency may be below zero.
		if r.value <= 0 && !strings.HasPrefix(r.figure, "claim latency") || math.IsNaN(r.value) {
			t.Errorf("figure %q is %v", r.figure, r.value)
		}
	}
}

// TestFleetBenchSmoke runs the fleet mode small: three casare processes
// built from this tree, 50 internet robots each with its own connection
// and token, a few LAN slots, two idle windows. Every figure must come out, the idle fleet
// must write no Raft entry, and each dispatch must run every job.
func TestFleetBenchSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "casare")
	build := exec.Command("go", "build", "-o", bin, "github.com/casare/casare/cmd/casare")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build casare: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	b := &bench{cfg: config{bin: bin}, d: smokeRun}
	// Two idle windows, as -fleet-idle 2 measures them.
	shape := fleetShape{internet: 50, lanPerNode: 2, few: 10, idle: 2 * time.Second, idleWindows: 2, jobs: 300}
	err := b.runFleet(ctx, t.TempDir(), shape)
	b.rep.print(os.Stdout)
	if err != nil {
		t.Fatalf("fleet bench: %v", err)
	}
	if len(b.rep.rows) != 9 {
		t.Fatalf("%d figures, want 9 (idle CPU, idle entries and loopback twice, three dispatch rates)", len(b.rep.rows))
	}
	for _, r := range b.rep.rows {
		switch {
		case strings.HasPrefix(r.figure, "idle fleet: Raft entries") && r.value != 0:
			t.Errorf("the idle fleet wrote %v entries/s (%s)", r.value, r.note)
		case strings.HasPrefix(r.figure, "dispatch") && (r.value <= 0 || !strings.HasPrefix(r.note, "300 succeeded")):
			t.Errorf("figure %q is %v: %s", r.figure, r.value, r.note)
		}
	}
}
