//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
)

// fleetShape is what the fleet mode connects and runs: internet robots
// (one QUIC connection and one token each, all in this process), LAN
// slots per node (casare node --capacity), the few internet robots the
// dispatch rate is compared with, and how long and how much it measures.
type fleetShape struct {
	internet, lanPerNode, few int
	idle                      time.Duration
	jobs                      int
	// idleOnly skips the dispatch figures and measures the idle ones
	// idleWindows times in a row: the idle cost on a shared machine is
	// read as the median of a few windows.
	idleOnly    bool
	idleWindows int
}

// fleetDrainLimit bounds each dispatch figure of the fleet mode.
const fleetDrainLimit = 3 * time.Minute

var (
	fullFleet  = fleetShape{internet: 1000, lanPerNode: 67, few: 50, idle: 20 * time.Second, jobs: 5000}
	quickFleet = fleetShape{internet: 1000, lanPerNode: 67, few: 50, idle: 5 * time.Second, jobs: 2000}
)

// runFleetMode runs the fleet mode with the command line's shape.
func (b *bench) runFleetMode(ctx context.Context, root string) error {
	shape := fullFleet
	if b.cfg.quick {
		shape = quickFleet
	}
	shape.internet = b.cfg.fleetRobots
	shape.idleWindows = 1
	if b.cfg.fleetIdle > 0 {
		shape.idleOnly, shape.idleWindows = true, b.cfg.fleetIdle
	}
	return b.runFleet(ctx, root, shape)
}

// runFleet is the fleet mode: three casare processes with LAN slots, a
// fleet of internet robots connected to their gateways, the cost of the
// idle fleet, then the no-op dispatch rate with the whole fleet, with all
// internet robots and with only a few of them.
func (b *bench) runFleet(ctx context.Context, root string, shape fleetShape) error {
	if err := b.useBinary(); err != nil {
		return err
	}
	if err := raiseFileLimit(); err != nil {
		return err
	}
	// A job whose robot lost its connection mid-run holds its lease until
	// it expires (30 s): the drain must outlast that.
	b.d.e2eTimeout = max(b.d.e2eTimeout, fleetDrainLimit)
	fmt.Printf("fleet: three casare processes (%s) on loopback with %d LAN slots each, %d internet robots in this process (pid %d); load average at start: %s\n",
		b.cfg.bin, shape.lanPerNode, shape.internet, os.Getpid(), loadAverage())
	c, err := startProcCluster(ctx, b.cfg.bin, filepath.Join(root, "fleet"), procSize, true, b.cfg.cpuprofile != "", shape.lanPerNode)
	if err != nil {
		return err
	}
	defer c.close()
	wfID, err := createWorkflow(ctx, c.clients[0], "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	b.progress("fleet: creating %d robot tokens", shape.internet)
	tokens, err := createRobotTokens(ctx, c.clients[0], shape.internet)
	if err != nil {
		return err
	}
	b.progress("fleet: connecting %d internet robots", shape.internet)
	f := newFleet()
	defer f.stop()
	t0 := time.Now()
	if err := f.connect(ctx, c, tokens); err != nil {
		return err
	}
	b.progress("fleet: %d robots connected in %s", shape.internet, fmtSeconds(time.Since(t0)))
	if err := waitFleetRecorded(ctx, c.clients[0], shape.internet); err != nil {
		return err
	}
	for i := range max(shape.idleWindows, 1) {
		if err := b.fleetIdle(ctx, c, shape, i); err != nil {
			return err
		}
	}
	if shape.idleOnly {
		return nil
	}
	lanSlots := procSize * shape.lanPerNode
	for _, d := range []struct {
		mode, what string
	}{
		{consensus.ModeAny, fmt.Sprintf("whole fleet: %d internet robots + %d LAN slots", shape.internet, lanSlots)},
		{consensus.RobotInternet, fmt.Sprintf("%d internet robots", shape.internet)},
	} {
		if err := b.fleetDispatch(ctx, c, wfID, d.mode, d.what, shape.jobs, nil); err != nil {
			return err
		}
	}
	b.progress("fleet: disconnecting all but %d internet robots", shape.few)
	f.stopAllBut(shape.few)
	if err := waitFleetRecorded(ctx, c.clients[0], shape.few); err != nil {
		return err
	}
	return b.fleetDispatch(ctx, c, wfID, consensus.RobotInternet, fmt.Sprintf("%d internet robots", shape.few), shape.jobs, fewNoFaster(b))
}

// fewNoFaster is the target of the few-robots row: the rate with the
// whole internet fleet must be at least it, so the row checks the
// reverse — the few robots must not be faster.
func fewNoFaster(b *bench) *target {
	for _, r := range b.rep.rows {
		if strings.HasPrefix(r.figure, "dispatch, internet jobs") {
			return atMost(r.value)
		}
	}
	return nil
}

// useBinary makes the -bin path absolute and checks it exists.
func (b *bench) useBinary() error {
	bin, err := filepath.Abs(b.cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the casare binary (make build makes it): %w", err)
	}
	b.cfg.bin = bin
	return nil
}

// fleetIdle measures the idle fleet: the leader's CPU, the Raft entries
// it applies and the loopback traffic over shape.idle. Window i > 0 is a
// repeat; its profiles get their own files.
func (b *bench) fleetIdle(ctx context.Context, c *procCluster, shape fleetShape, i int) error {
	leader, err := c.leaderNode(ctx)
	if err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	others := slices.DeleteFunc(slices.Clone(c.pids()), func(p int) bool { return p == leader.cmd.Process.Pid })
	b.progress("fleet: idle for %v (leader %s)", shape.idle, leader.name)
	name := "fleet-idle"
	if i > 0 {
		name = fmt.Sprintf("fleet-idle%d", i+1)
	}
	profiled := b.profileProcs(ctx, c, name, shape.idle)
	cl0, err := leader.client.Cluster(ctx)
	if err != nil {
		return err
	}
	cpu0, rest0, lo0, self0, t0 := procCPU([]int{leader.cmd.Process.Pid}), procCPU(others), loopbackBytes(), processCPU(), time.Now()
	if !sleepCtx(ctx, shape.idle) {
		return ctx.Err()
	}
	cl1, err := leader.client.Cluster(ctx)
	if err != nil {
		return err
	}
	secs := time.Since(t0).Seconds()
	cpu, rest, lo, self := procCPU([]int{leader.cmd.Process.Pid})-cpu0, procCPU(others)-rest0, loopbackBytes()-lo0, processCPU()-self0
	if err := profiled(); err != nil {
		b.progress("warning: %v", err)
	}
	fleet := fmt.Sprintf("%d internet robots connected, %d LAN slots, no jobs; %s", shape.internet, procSize*shape.lanPerNode, fmtSeconds(time.Since(t0)))
	b.addProc(row{nodes: procSize, figure: "idle fleet: leader CPU, % of one core", value: 100 * cpu.Seconds() / secs, unit: "%",
		target: atMost(10), note: fmt.Sprintf("%s; followers %.1f%% together; robots' process %.1f%%",
			fleet, 100*rest.Seconds()/secs, 100*self.Seconds()/secs)})
	b.addProc(row{nodes: procSize, figure: "idle fleet: Raft entries per second", value: float64(cl1.AppliedIndex-cl0.AppliedIndex) / secs,
		unit: "entries/s", target: atMost(0), note: fmt.Sprintf("leader's applied index %d → %d", cl0.AppliedIndex, cl1.AppliedIndex)})
	b.addProc(row{nodes: procSize, figure: "idle fleet: loopback traffic, all processes", value: float64(lo) / secs / 1024, unit: "KiB/s",
		note: "/proc/net/dev lo, the whole machine: QUIC keep-alives, Raft heartbeats, gossip and any other process on loopback (not per process)"})
	return nil
}

// fleetDispatch queues jobs no-op jobs in mode over all nodes and waits
// until none is queued or running: the end-to-end dispatch rate of
// whichever robots may take them.
func (b *bench) fleetDispatch(ctx context.Context, c *procCluster, wfID, mode, robots string, jobs int, goal *target) error {
	b.progress("fleet: dispatch of %d %s jobs, %s", jobs, mode, robots)
	req := slices.Repeat([]api.JobRequest{{WorkflowID: wfID, ExecutionMode: mode}}, min(e2eBatch, jobs))
	res, err := b.drain(ctx, c, req, jobs, "fleet-"+mode)
	if err != nil {
		return fmt.Errorf("fleet dispatch, %s: %w", robots, err)
	}
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("dispatch, %s jobs, %s", mode, robots), value: res.rate(), unit: "jobs/s",
		target: goal, cpu: perItem(res.cpu, res.done), note: res.note()})
	return nil
}

// drainResult is one run of queued jobs through the robots.
type drainResult struct {
	done               int
	submitted, elapsed time.Duration
	cpu                time.Duration
	errs               int64
	entries            uint64
	// timings says where the writes spent their time (timingsNote).
	timings string
}

func (r drainResult) rate() float64 { return float64(r.done) / r.elapsed.Seconds() }

func (r drainResult) note() string {
	return fmt.Sprintf("%d succeeded; submits done at %s, last succeeded at %s; %d submit errors; %.3f Raft entries per job",
		r.done, fmtSeconds(r.submitted), fmtSeconds(r.elapsed), r.errs, float64(r.entries)/float64(max(r.done, 1))) + r.timings
}

// loopbackBytes is what the loopback interface has received, from
// /proc/net/dev (on loopback every byte sent is received once).
func loopbackBytes() int64 {
	data, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || name != "lo" {
			continue
		}
		if f := strings.Fields(rest); len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			return n
		}
	}
	return 0
}

// sleepCtx sleeps for d unless ctx ends first; it reports whether it slept.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
