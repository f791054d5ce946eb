//go:build unix

// Command queue benchmarks the Casare job queue end to end.
//
// By default it measures what users run (procbench.go): three `casare`
// processes from -bin on loopback, driven over the REST API from this
// process, beside raw Raft (hashicorp/raft + raft-boltdb, three nodes in
// a helper process that is this program run again with -rawraft-helper)
// measured in the same run over plain TCP, and over the mutual TLS
// cluster port that nodes use before and after Casare's figures; the
// higher of those two is the yardstick of the ratios. CPU per job is the three processes' CPU time. With -cpuprofile the
// nodes serve pprof on loopback (casare node --pprof) and each figure
// leaves one CPU profile per node, the leader's marked.
//
// With -inprocess it starts real nodes in this process (Raft on loopback
// TCP, the HTTP API, the built-in robots) for each cluster size and
// prints, in one table, how
// fast jobs are submitted, how fast no-op jobs run through the robots,
// how long a job waits to be claimed, and the bare Raft apply rate that
// all of it is measured against.
//
// Each cluster size gets two fresh clusters. The first runs no robots:
//
//   - raft apply: Store.Noop on the leader from 64 goroutines, then from
//     one; the same apply path as every command with an empty handler.
//   - submit: POST /api/v1/jobs from 64 closed-loop clients, then POST
//     /api/v1/jobs/batch with 100 jobs from 8; clients take the nodes in
//     turn, so followers forward to the leader as they would in use.
//
// Throughputs count what completed inside a fixed window after a
// warm-up. The second cluster runs every node's robot:
//
//   - end-to-end: 4 clients queue no-op (start → end) jobs in batches
//     of 1000 while the robots claim, run and complete them; measured
//     from the first submit to the moment the leader holds no queued
//     and no running job.
//   - claim latency: one job per POST at a fixed rate; the job's first
//     node calls back into this program, which notes the time. Latency
//     is that moment minus the moment the submit's 2xx arrived, both on
//     this process's clock.
//
// Usage:
//
//	go run ./bench/queue [-bin bin/casare] [-quick] [-runs 3] [-inprocess [-nodes 1,3]] [-capacity 1000] [-cpuprofile DIR] [-trace DIR]
//	go run ./bench/queue [-quick] [-nodes 1,3] [-capacity 1000] [-cpuprofile DIR] [-trace DIR]
//	go run ./bench/queue -events [-nodes 3]   # the event stream under load (events.go)
//	go run ./bench/queue -bin bin/casare -submit-only [-window 10s]   # raw Raft and the submit figures only
//	go run ./bench/queue -bin bin/casare -fleet [-fleet-robots 1000] [-fleet-idle 3]   # 1,000 internet robots and 200 LAN slots (fleet.go)
//	go run ./bench/queue -archive postgres://…   # the archiver's throughput and lag (archivebench.go)
//	go run ./bench/queue -bin bin/casare -schedules [-quick]   # schedule lateness and leader kills (schedules.go)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/casare/casare/internal/hugepages"
	"github.com/casare/casare/node"
)

// config is the command line.
type config struct {
	quick       bool
	sizes       []int
	capacity    int
	cpuprofile  string
	tracedir    string
	dir         string
	via         string
	e2eJobs     int
	latencyRate int
	// inprocess runs the nodes inside this process (the second table)
	// instead of three casare processes from bin.
	inprocess bool
	bin       string
	// rawRaft* run this program as the raw Raft helper process.
	rawRaftDir                 string
	rawRaftTLS                 bool
	rawRaftWarm, rawRaftWindow time.Duration
	// events runs the event stream mode instead of the table.
	events bool
	// window, when set, replaces the submit figures' window: long
	// enough for a CPU profile with enough samples on a busy machine.
	window time.Duration
	// memoryJobs, when set, runs the memory figures instead of the table.
	memoryJobs int
	// fleet runs the fleet figures (fleet.go) instead of the table, with
	// fleetRobots internet robots.
	fleet       bool
	fleetRobots int
	// fleetIdle, when set, limits the fleet mode to its idle figures,
	// measured this many times in a row on the one fleet.
	fleetIdle int
	// runs is how many times the real-process table runs (runs.go).
	runs int
	// archiveURL, when set, runs the archiver figures instead of the
	// table, on a fresh database of the Postgres it names.
	archiveURL string
	// schedules runs the schedule figures instead of the table.
	schedules bool
	// submitOnly limits the real-process table to raw Raft and the
	// submit figures: the quick comparison of a change to the submit path.
	submitOnly bool
}

// durations are how long each figure runs.
type durations struct {
	warm       time.Duration // load before each window, not counted
	raft       time.Duration
	raftSerial time.Duration
	submit     time.Duration
	latency    time.Duration
	e2eTimeout time.Duration
	// limit bounds the whole run, whatever the cluster does.
	limit time.Duration
}

var (
	fullRun  = durations{warm: 500 * time.Millisecond, raft: 3 * time.Second, raftSerial: 2 * time.Second, submit: 4 * time.Second, latency: 5 * time.Second, e2eTimeout: 60 * time.Second, limit: 10 * time.Minute}
	quickRun = durations{warm: 300 * time.Millisecond, raft: time.Second, raftSerial: time.Second, submit: 1500 * time.Millisecond, latency: 2 * time.Second, e2eTimeout: 30 * time.Second, limit: 5 * time.Minute}
)

// bench is one run of the program.
type bench struct {
	cfg config
	d   durations
	rep report
	// tuning is the runtime setting the nodes run with, as in casare.
	tuning node.RuntimeTuning
	prof   profiler
	// others is the CPU share other processes took during the last
	// figure; the figures mean little when it is high.
	others float64
}

func main() {
	cfg, err := parseFlags()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if cfg.rawRaftDir != "" {
		if err := runRawRaft(cfg.rawRaftDir, cfg.rawRaftTLS, cfg.rawRaftWarm, cfg.rawRaftWindow); err != nil {
			fmt.Fprintln(os.Stderr, "bench: raw raft helper:", err)
			os.Exit(1)
		}
		return
	}
	// Stopping early still stops the nodes and removes their data dirs.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The nodes run with the collector settings `casare node` uses.
	tuning := node.TuneRuntime()
	b := &bench{tuning: tuning, cfg: cfg, d: fullRun, prof: profiler{cpuDir: cfg.cpuprofile, traceDir: cfg.tracedir}}
	if cfg.quick {
		b.d = quickRun
	}
	if cfg.window > 0 {
		b.d.submit = cfg.window
	}
	b.d.limit *= time.Duration(cfg.runs)
	err = b.run(ctx)
	b.prof.stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags() (config, error) {
	var cfg config
	var sizes string
	flag.BoolVar(&cfg.quick, "quick", false, "shorter windows and fewer jobs (about half the time)")
	flag.StringVar(&sizes, "nodes", "1,3", "comma-separated cluster sizes to measure")
	flag.IntVar(&cfg.capacity, "capacity", 1000, "robot slots per node (node.Config.Capacity) for the end-to-end and latency figures")
	flag.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write one CPU profile per figure into this directory")
	flag.StringVar(&cfg.tracedir, "trace", "", "write one execution trace per figure into this directory")
	flag.StringVar(&cfg.dir, "dir", os.TempDir(), "where the nodes' data dirs are made (and removed)")
	flag.StringVar(&cfg.via, "via", "all", "which nodes the clients call: all (round-robin; followers forward) or leader (with -inprocess every client; with real processes the submit figures' clients)")
	flag.IntVar(&cfg.e2eJobs, "jobs", 0, "jobs in the end-to-end figure (default 30000, 5000 with -quick; -inprocess: 100000, 30000 with -quick)")
	flag.IntVar(&cfg.latencyRate, "latency-rate", 200, "submits per second while measuring claim latency")
	flag.BoolVar(&cfg.inprocess, "inprocess", false, "run the nodes inside this process, for each -nodes size (the in-process table), instead of three casare processes")
	flag.StringVar(&cfg.bin, "bin", "bin/casare", "the casare binary the real-process bench starts (make bench builds it)")
	flag.StringVar(&cfg.rawRaftDir, "rawraft-helper", "", "internal: run as the raw Raft helper process with its data in this directory")
	flag.BoolVar(&cfg.rawRaftTLS, "rawraft-tls", false, "internal: the raw Raft helper runs Raft over mutual TLS, as nodes do")
	flag.DurationVar(&cfg.rawRaftWarm, "rawraft-warm", time.Second, "internal: the raw Raft helper's warm-up")
	flag.DurationVar(&cfg.rawRaftWindow, "rawraft-window", 3*time.Second, "internal: the raw Raft helper's measured window")
	flag.DurationVar(&cfg.window, "window", 0, "measure each submit figure for this long instead of 4s (1.5s with -quick), e.g. for -cpuprofile")
	flag.IntVar(&cfg.memoryJobs, "memory", 0, "instead of the table: queue this many jobs on one casare process, report RSS per queued job and the time to ready after a restart")
	flag.BoolVar(&cfg.fleet, "fleet", false, "instead of the table: three casare processes with 200 LAN slots and -fleet-robots internet robots; the idle fleet's cost and the dispatch rate")
	flag.IntVar(&cfg.fleetRobots, "fleet-robots", 1000, "internet robots the -fleet mode connects, each with its own QUIC connection and token")
	flag.IntVar(&cfg.fleetIdle, "fleet-idle", 0, "with -fleet: only the idle figures, measured this many times in a row on the one fleet (the dispatch figures are skipped)")
	flag.IntVar(&cfg.runs, "runs", 1, "run the real-process table this many times and print each figure's min, median and max over the runs (with -cpuprofile, each run overwrites the last's profiles)")
	flag.StringVar(&cfg.archiveURL, "archive", "", "instead of the table: the end-to-end load on three casare processes with --archive-url, a fresh database on the Postgres at this URL (dropped after); reports the archiver's throughput and lag")
	flag.BoolVar(&cfg.schedules, "schedules", false, "instead of the table: lateness of 100 fires of an every-second schedule on three casare processes (20 with -quick), and the time from a SIGKILL of the leader to the new leader's first fire")
	flag.BoolVar(&cfg.submitOnly, "submit-only", false, "the real-process table without its robot figures: raw Raft and the submit figures only")
	flag.BoolVar(&cfg.events, "events", false, "instead of the table: 10 s of end-to-end load with a fast and a slow event stream subscriber, between two 10 s runs without (the largest -nodes size)")
	flag.Parse()
	for f := range strings.SplitSeq(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 7 {
			return cfg, fmt.Errorf("-nodes: %q is not a cluster size from 1 to 7", f)
		}
		cfg.sizes = append(cfg.sizes, n)
	}
	if cfg.via != "all" && cfg.via != "leader" {
		return cfg, fmt.Errorf("-via must be all or leader, not %q", cfg.via)
	}
	if cfg.fleetIdle < 0 || (cfg.fleetIdle > 0 && !cfg.fleet) {
		return cfg, fmt.Errorf("-fleet-idle must be positive and goes with -fleet, not %d", cfg.fleetIdle)
	}
	if cfg.fleetRobots < 50 {
		return cfg, fmt.Errorf("-fleet-robots must be at least 50, the few robots it is compared with")
	}
	if cfg.runs < 1 || (cfg.runs > 1 && (cfg.inprocess || cfg.events || cfg.memoryJobs > 0 || cfg.archiveURL != "" || cfg.schedules || cfg.fleet)) {
		return cfg, fmt.Errorf("-runs must be at least 1, and more than 1 only for the real-process table (not with -inprocess, -events, -memory, -archive, -schedules or -fleet), not %d", cfg.runs)
	}
	if cfg.submitOnly && (cfg.inprocess || cfg.events || cfg.memoryJobs > 0 || cfg.archiveURL != "" || cfg.schedules || cfg.fleet) {
		return cfg, fmt.Errorf("-submit-only goes with the real-process table only")
	}
	if cfg.capacity < 1 || cfg.latencyRate < 1 {
		return cfg, fmt.Errorf("-capacity and -latency-rate must be positive")
	}
	if cfg.e2eJobs == 0 {
		cfg.e2eJobs = 100000
		if cfg.quick {
			cfg.e2eJobs = 30000
		}
		// Three processes on a shared machine run a few thousand jobs a
		// second end to end: 30,000 is ten seconds or so, long enough for
		// a steady rate, short enough to stay inside the time-out.
		if !cfg.inprocess {
			cfg.e2eJobs = 30000
			if cfg.quick {
				cfg.e2eJobs = 5000
			}
		}
	}
	return cfg, nil
}

func (b *bench) run(ctx context.Context) error {
	root, err := os.MkdirTemp(b.cfg.dir, "casare-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(root)
	// Every wait in the program has its own bound; this one catches a
	// node that hangs where the benchmark cannot interrupt it, and shows
	// where.
	watchdog := time.AfterFunc(b.d.limit, func() {
		buf := make([]byte, 8<<20)
		buf = buf[:runtime.Stack(buf, true)]
		fmt.Fprintf(os.Stderr, "bench: still running after %v; goroutines:\n%s", b.d.limit, buf)
		os.RemoveAll(root)
		os.Exit(3)
	})
	defer watchdog.Stop()
	begin := time.Now()
	if mode := b.singleMode(); mode != nil {
		err := mode(ctx, root)
		b.rep.print(os.Stdout) // what was measured before a failure too
		if err != nil {
			return err
		}
		printEnd(begin)
		return nil
	}
	// The event stream mode runs its cluster inside this process.
	if !b.cfg.inprocess && !b.cfg.events {
		if b.cfg.runs > 1 {
			err = b.runProcsN(ctx, root, b.cfg.runs)
		} else if err = b.runProcs(ctx, root); err == nil {
			b.rep.print(os.Stdout)
		}
		if err != nil {
			return err
		}
		fmt.Printf("\nvalues are what the load generator saw over REST; ×raft64 is the ratio to this run's yardstick: the higher of its two raw Raft rows over mutual TLS.\n")
		fmt.Printf("CPU µs/item is the three casare processes' CPU time (from /proc/<pid>/stat) per job; the raw Raft row's is the helper's.\n")
		printEnd(begin)
		return nil
	}
	fmt.Printf("casare queue benchmark: %s %s/%s, GOMAXPROCS=%d, NumCPU=%d, data in %s\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), b.cfg.dir)
	fmt.Printf("nodes, robots and load generator share this process and its %d CPUs; loopback only\n", runtime.GOMAXPROCS(0))
	fmt.Printf("runtime as in casare node: %s\n", b.tuning)
	fmt.Printf("load average at start: %s\n\n", loadAverage())
	if b.cfg.events {
		return b.runEventsMode(ctx, root)
	}
	for _, size := range b.cfg.sizes {
		if err := b.measureSize(ctx, root, size); err != nil {
			return fmt.Errorf("%d-node cluster: %w", size, err)
		}
	}
	b.rep.print(os.Stdout)
	fmt.Printf("\nCPU µs/item is this process's CPU time (nodes, robots and load generator) per job or apply.\n")
	fmt.Printf("\"others\" is the share of all CPUs that other processes used while the figure was measured.\n")
	printEnd(begin)
	return nil
}

// singleMode returns the mode that the command line asks for instead of
// the table, or nil.
func (b *bench) singleMode() func(context.Context, string) error {
	switch {
	case b.cfg.archiveURL != "":
		return b.runArchive
	case b.cfg.schedules:
		return b.runSchedules
	case b.cfg.memoryJobs > 0:
		return b.runMemory
	case b.cfg.fleet:
		return b.runFleetMode
	}
	return nil
}

// measureSize measures one cluster size on two fresh clusters: the
// submit figures without robots, so that nothing else writes to Raft,
// and the end-to-end and latency figures with every node's robot on.
func (b *bench) measureSize(ctx context.Context, root string, size int) error {
	b.progress("%d node(s): starting cluster without robots", size)
	c, err := startCluster(ctx, fmt.Sprintf("%s/%dn-submit", root, size), size, false, b.cfg.capacity)
	if err != nil {
		return err
	}
	err = b.submitCluster(ctx, c, size)
	b.closeCluster(c)
	if err != nil {
		return err
	}

	b.progress("%d node(s): starting cluster with robots, %d slots each", size, b.cfg.capacity)
	c, err = startCluster(ctx, fmt.Sprintf("%s/%dn-robots", root, size), size, true, b.cfg.capacity)
	if err != nil {
		return err
	}
	err = b.robotCluster(ctx, c, size)
	b.closeCluster(c)
	return err
}

// closeCluster stops a cluster whose figures are taken; a failure to
// shut down cleanly does not make them wrong, so it is only reported.
func (b *bench) closeCluster(c *cluster) {
	if err := c.close(); err != nil {
		b.progress("warning: stopping the cluster: %v", err)
	}
}

func (b *bench) submitCluster(ctx context.Context, c *cluster, size int) error {
	wfID, err := createWorkflow(ctx, c.leaderClient(), "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	b.progress("%d node(s): raw Raft apply rate", size)
	raft64, err := b.raftFigures(ctx, c, size, false)
	if err != nil {
		return err
	}
	b.progress("%d node(s): submit throughput", size)
	return b.submitFigures(ctx, c, size, wfID, raft64)
}

func (b *bench) robotCluster(ctx context.Context, c *cluster, size int) error {
	noopID, err := createWorkflow(ctx, c.leaderClient(), "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	marks, err := listenMarks()
	if err != nil {
		return err
	}
	defer marks.close()
	probeID, err := createWorkflow(ctx, c.leaderClient(), "bench-probe", fmt.Sprintf(probeWorkflow, marks.url))
	if err != nil {
		return err
	}
	raft64, err := b.raftFigures(ctx, c, size, true)
	if err != nil {
		return err
	}

	b.progress("%d node(s): end-to-end, %d no-op jobs", size, b.cfg.e2eJobs)
	var e2e e2eResult
	err = b.figure(size, "e2e", func() error {
		var err error
		e2e, err = b.endToEnd(ctx, c, noopID, b.cfg.e2eJobs)
		return err
	})
	if err != nil {
		return err
	}
	slots := size * b.cfg.capacity
	b.add(row{
		nodes: size, figure: fmt.Sprintf("end-to-end no-op, submit→succeeded, %d robot slots", slots),
		value: e2e.rate(), unit: "jobs/s", ratio: e2e.rate() / raft64, target: atLeast(20000),
		cpu: perItem(e2e.cpu, e2e.jobs), note: e2e.note(),
	})
	b.add(row{
		nodes: size, figure: "end-to-end Raft entries per job", value: float64(e2e.entries) / float64(max(e2e.jobs, 1)),
		unit: "entries", note: fmt.Sprintf("%d entries applied on the leader during the run", e2e.entries),
	})

	b.progress("%d node(s): claim latency at %d jobs/s", size, b.cfg.latencyRate)
	var lat latencyResult
	err = b.figure(size, "latency", func() error {
		var err error
		lat, err = b.claimLatency(ctx, c, probeID, marks)
		return err
	})
	if err != nil {
		return err
	}
	b.add(row{
		nodes: size, figure: "claim latency p50, submit 2xx → robot runs job", value: ms(percentile(lat.ackToRun, 50)),
		unit: "ms", target: atMost(5), note: lat.note(50),
	})
	b.add(row{
		nodes: size, figure: "claim latency p99, submit 2xx → robot runs job", value: ms(percentile(lat.ackToRun, 99)),
		unit: "ms", target: atMost(50), note: lat.note(99),
	})
	return nil
}

// figure runs one measurement under its own profiles and notes how much
// CPU other processes took meanwhile.
func (b *bench) figure(size int, name string, fn func() error) error {
	if err := b.prof.start(fmt.Sprintf("%dn-%s", size, name)); err != nil {
		return err
	}
	defer b.prof.stop()
	before := sampleCPU()
	err := fn()
	b.others = othersShare(before, sampleCPU())
	return err
}

// add reports a figure of the measurement that ran last.
func (b *bench) add(x row) {
	x.others = b.others
	b.rep.add(x)
}

// progress tells the operator what is running; the table goes to stdout.
func (b *bench) progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "# "+format+"\n", args...)
}

// printEnd prints the load average at the end, the run's length, and the
// system's transparent huge page setting: where a page fault is costly
// (a virtual machine), it decides much of what fresh node processes pay
// (docs/performance.md, 3 December, 17:20).
func printEnd(begin time.Time) {
	fmt.Printf("load average at end: %s; total %s; transparent huge pages %s\n",
		loadAverage(), time.Since(begin).Round(100*time.Millisecond), hugePageSetting())
}

// hugePageSetting returns the system's transparent huge page setting, or
// "unknown".
func hugePageSetting() string {
	s, err := hugepages.Setting()
	if err != nil {
		return "unknown"
	}
	return s
}
