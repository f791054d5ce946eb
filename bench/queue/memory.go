//go:build unix

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	api "github.com/casare/casare/api/wire"
)

// The memory figures (-memory N): what a queued job costs a node, and how
// long a node with that queue takes to be ready again after a restart.
// One casare process without robots, so nothing leaves the queue.

const (
	memoryClients = 8
	memoryBatch   = 1000
)

func (b *bench) runMemory(ctx context.Context, root string) error {
	bin, err := filepath.Abs(b.cfg.bin)
	if err != nil {
		return err
	}
	fmt.Printf("one casare process (%s), %d jobs queued over REST in batches of %d by %d clients; load average at start: %s\n",
		bin, b.cfg.memoryJobs, memoryBatch, memoryClients, loadAverage())
	c, err := startProcCluster(ctx, bin, filepath.Join(root, "memory"), 1, false, b.cfg.cpuprofile != "", 1)
	if err != nil {
		return err
	}
	defer c.close()
	n := c.nodes[0]
	wfID, err := createWorkflow(ctx, n.client, "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	before, err := rss(n.cmd.Process.Pid)
	if err != nil {
		return err
	}
	b.progress("queueing %d jobs", b.cfg.memoryJobs)
	start := time.Now()
	if err := queueJobs(ctx, n, wfID, b.cfg.memoryJobs); err != nil {
		return err
	}
	took := time.Since(start)
	after, err := rss(n.cmd.Process.Pid)
	if err != nil {
		return err
	}
	perJob := float64(after-before) / float64(b.cfg.memoryJobs)
	b.rep.add(row{nodes: 1, figure: fmt.Sprintf("RSS per queued job, %d queued", b.cfg.memoryJobs), value: perJob, unit: "bytes",
		target: atMost(1024), note: fmt.Sprintf("RSS %d MB before, %d MB after; queued in %s", before>>20, after>>20, took.Round(100*time.Millisecond))})

	b.progress("restarting the node with %d queued", b.cfg.memoryJobs)
	args := n.cmd.Args[1:]
	stopProc(n)
	if err := b.restartRow(ctx, n, args, "restart to ready (log replay)", b.cfg.memoryJobs); err != nil {
		return err
	}
	written, err := b.runSnapshot(ctx, n, wfID, args)
	if err != nil {
		return err
	}
	b.progress("restarting the node from its snapshot")
	stopProc(n)
	return b.restartRow(ctx, n, args, "restart to ready (from a snapshot)", b.cfg.memoryJobs+written)
}

// restartRow restarts the stopped node with args, checks that it still
// has queued jobs queued, and reports how long it took to be ready.
func (b *bench) restartRow(ctx context.Context, n *procNode, args []string, figure string, queued int) error {
	ready, err := b.restartReady(ctx, n, args, figure)
	if err != nil {
		return err
	}
	// The process's CPU time to ready says what the restart costs on a
	// loaded machine better than the wall time does.
	cpu := procCPU([]int{n.cmd.Process.Pid})
	if err := b.profileRestart(ctx, n, figure); err != nil {
		return err
	}
	stats, err := n.client.QueueStats(ctx)
	if err != nil {
		return err
	}
	if q := stats.ByState["queued"]; q != queued {
		return fmt.Errorf("after the restart the node has %d queued jobs, not %d", q, queued)
	}
	restarted, err := rss(n.cmd.Process.Pid)
	if err != nil {
		return err
	}
	b.rep.add(row{nodes: 1, figure: fmt.Sprintf("%s, %d queued", figure, b.cfg.memoryJobs), value: ready.Seconds(), unit: "s",
		target: atMost(10), note: fmt.Sprintf("CPU %.1f s to ready; RSS %d MB after the restart; every job still queued", cpu.Seconds(), restarted>>20)})
	return nil
}

// queueJobs submits count jobs of workflow wfID in batches.
func queueJobs(ctx context.Context, n *procNode, wfID string, count int) error {
	batches := make(chan int)
	errs := make(chan error, memoryClients)
	var wg sync.WaitGroup
	for range memoryClients {
		wg.Go(func() {
			for size := range batches {
				reqs := slices.Repeat([]api.JobRequest{{WorkflowID: wfID, ExecutionMode: "lan"}}, size)
				if _, err := n.client.SubmitJobs(ctx, reqs); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	var err error
feed:
	for left := count; left > 0; left -= memoryBatch {
		select {
		case batches <- min(left, memoryBatch):
		case err = <-errs:
			break feed
		}
	}
	close(batches)
	wg.Wait()
	if err == nil && len(errs) > 0 {
		err = <-errs
	}
	if err != nil {
		return fmt.Errorf("queue %d jobs: %w", count, err)
	}
	return nil
}

// restartProfileSecs is how long a restart's CPU profile runs: longer
// than a restart with a million queued takes.
const restartProfileSecs = 20

// profileRestart, with -cpuprofile, waits for the CPU profile that
// restartReady started with the process.
func (b *bench) profileRestart(ctx context.Context, n *procNode, figure string) error {
	if n.profile == nil {
		return nil
	}
	b.progress("waiting for the CPU profile of the restart")
	err := <-n.profile
	n.profile = nil
	if err != nil {
		return fmt.Errorf("profile %s: %w", figure, err)
	}
	return nil
}

// restartReady starts the stopped node again on its data dir and ports,
// with args, and returns how long it took until it said ready. With
// -cpuprofile and a profile name, it starts a CPU profile of the process
// (see profileRestart).
func (b *bench) restartReady(ctx context.Context, n *procNode, args []string, profile string) (time.Duration, error) {
	start := time.Now()
	if err := restartProc(n, args); err != nil {
		return 0, err
	}
	if n.pprof != "" && b.cfg.cpuprofile != "" && profile != "" {
		n.profile = make(chan error, 1)
		path := filepath.Join(b.cfg.cpuprofile, strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(profile)+".pprof")
		go func() { n.profile <- fetchProfileSoon(ctx, n.pprof, path) }()
	}
	deadline := start.Add(2 * time.Minute)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if ok, err := n.client.Ready(ctx); err == nil && ok {
			return time.Since(start), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s not ready within 2 minutes of a restart (log: %s)", n.name, filepath.Join(n.dir, "node.log"))
}

// rss returns a process's resident set size in bytes.
func rss(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// fetchProfileSoon profiles a process that has just started: it retries
// until the pprof listener is up (at most 5 s).
func fetchProfileSoon(ctx context.Context, addr, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := fetchProfile(ctx, addr, "profile", restartProfileSecs, path)
		if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}
