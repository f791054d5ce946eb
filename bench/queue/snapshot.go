//go:build unix

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	api "github.com/casare/casare/api/wire"
)

// The snapshot figures of -memory: how long a node with the queue takes
// to snapshot its state, and how long writes wait meanwhile. Nothing
// outside a node can ask it for a snapshot, so the bench restarts it with
// --snapshot-entries just past its log's end and writes one small job at
// a time until Raft's threshold is crossed and the snapshot is taken.
// The node's log says what each part took: the FSM's capture of an
// immutable view ("state captured for a snapshot", which applies wait
// for), and Raft writing it out ("starting snapshot up to" … "snapshot
// complete up to"), of which the encoding of the view ("state encoded
// for a snapshot") is most. A node built before views encoded the whole
// state while applies waited and logs no capture: then the encoding is
// what applies waited for.

// snapshotWrites is how many entries past the log's end the snapshot
// threshold lies: enough that restarting (leader no-op, barrier, node
// registration) does not cross it alone.
const snapshotWrites = 100

// snapshotTiming is what a node's log says of one snapshot.
type snapshotTiming struct {
	capture time.Duration // the FSM's capture: applies wait for it
	encode  time.Duration // encoding the view, part of persist
	persist time.Duration // Raft writing it out and compacting the log
	bytes   int64
	done    bool
}

// stall is how long applies waited for the snapshot.
func (t snapshotTiming) stall() time.Duration {
	if t.capture == 0 {
		return t.encode // a node that encodes under the lock
	}
	return t.capture
}

// stalledOn says what applies waited for.
func (t snapshotTiming) stalledOn() string {
	if t.capture == 0 {
		return "the encoding, under the lock"
	}
	return "the capture; the encoding is not waited for"
}

func (b *bench) runSnapshot(ctx context.Context, n *procNode, wfID string, args []string) (written int, err error) {
	cl, err := n.client.Cluster(ctx)
	if err != nil {
		return 0, err
	}
	logPath := filepath.Join(n.dir, "node.log")
	stopProc(n)
	fi, err := os.Stat(logPath)
	if err != nil {
		return 0, err
	}
	threshold := cl.AppliedIndex + snapshotWrites
	b.progress("restarting with --snapshot-entries %d and writing one job at a time until it snapshots", threshold)
	if _, err := b.restartReady(ctx, n, slices.Concat(args, []string{"--snapshot-entries", strconv.FormatUint(threshold, 10)}), ""); err != nil {
		return 0, err
	}
	var longest time.Duration
	var timing snapshotTiming
	deadline := time.Now().Add(3 * time.Minute)
	lastCheck := time.Now()
	for !timing.done {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return written, fmt.Errorf("no snapshot within 3 minutes of writes (log: %s)", logPath)
		}
		t := time.Now()
		if _, err := n.client.SubmitJob(ctx, api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"}); err != nil {
			return written, fmt.Errorf("write during the snapshot: %w", err)
		}
		longest = max(longest, time.Since(t))
		written++
		if time.Since(lastCheck) > 100*time.Millisecond {
			lastCheck = time.Now()
			if timing, err = readSnapshotTiming(logPath, fi.Size()); err != nil {
				return written, err
			}
		}
	}
	b.rep.add(row{nodes: 1, figure: fmt.Sprintf("snapshot duration, %d queued", b.cfg.memoryJobs), value: (timing.stall() + timing.persist).Seconds(), unit: "s",
		note: fmt.Sprintf("%d MB; applies wait %s (%s), writing out %s (encoding %s); from the node's log", timing.bytes>>20,
			timing.stall().Round(time.Microsecond), timing.stalledOn(), timing.persist.Round(time.Millisecond), timing.encode.Round(time.Millisecond))})
	b.rep.add(row{nodes: 1, figure: "longest write during the snapshot", value: longest.Seconds(), unit: "s",
		note: fmt.Sprintf("one job submitted at a time over REST, %d in all until the snapshot was complete", written)})
	return written, nil
}

// readSnapshotTiming reads the first snapshot logged after offset in the
// node's log; done is false until Raft says it is complete.
func readSnapshotTiming(path string, offset int64) (snapshotTiming, error) {
	var t snapshotTiming
	f, err := os.Open(path)
	if err != nil {
		return t, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return t, err
	}
	var started time.Time
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.Contains(line, `msg="state captured for a snapshot"`):
			if t.capture, err = time.ParseDuration(logField(line, "took")); err != nil {
				return t, fmt.Errorf("snapshot log line %q: %w", line, err)
			}
		case strings.Contains(line, `msg="state encoded for a snapshot"`):
			if t.encode, err = time.ParseDuration(logField(line, "took")); err != nil {
				return t, fmt.Errorf("snapshot log line %q: %w", line, err)
			}
			t.bytes, _ = strconv.ParseInt(logField(line, "bytes"), 10, 64)
		case strings.Contains(line, `msg="starting snapshot up to"`):
			if started, err = time.Parse(time.RFC3339Nano, logField(line, "time")); err != nil {
				return t, fmt.Errorf("snapshot log line %q: %w", line, err)
			}
		case strings.Contains(line, `msg="snapshot complete up to"`) && !started.IsZero():
			done, err := time.Parse(time.RFC3339Nano, logField(line, "time"))
			if err != nil {
				return t, fmt.Errorf("snapshot log line %q: %w", line, err)
			}
			t.persist, t.done = done.Sub(started), true
			return t, nil
		}
	}
	return t, sc.Err()
}

// logField returns the value of key=value in a slog text line.
func logField(line, key string) string {
	i := strings.Index(line, " "+key+"=")
	if i < 0 {
		if !strings.HasPrefix(line, key+"=") {
			return ""
		}
	} else {
		line = line[i+1:]
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(line, key+"="), " ")
	return strings.Trim(v, `"`)
}
