//go:build unix

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
)

// procSize is the cluster the real-process bench runs: three voters, as
// a production install has.
const procSize = 3

// runProcs is the default bench: the raw Raft yardstick in a helper
// process, then three real `casare` processes driven over the REST API
// from this process, first without robots (submit figures), then with
// every node's robot (end-to-end and claim latency).
func (b *bench) runProcs(ctx context.Context, root string) error {
	bin, err := filepath.Abs(b.cfg.bin)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("the casare binary (make build makes it): %w", err)
	}
	b.cfg.bin = bin
	fmt.Printf("three casare processes (%s) on loopback, load generator in this process (pid %d); load average at start: %s\n",
		b.cfg.bin, os.Getpid(), loadAverage())
	// Nodes run Raft over mutual TLS: that is the yardstick. Plain TCP
	// is shown beside it, as the ratio of the two says what TLS costs.
	b.progress("raw Raft: 3 nodes in a helper process, %d concurrent applies, plain TCP", rawRaftClients)
	plain, err := b.rawRaft(ctx, filepath.Join(root, "rawraft"), false)
	if err != nil {
		return err
	}
	b.progress("raw Raft: 3 nodes in a helper process, %d concurrent applies, mutual TLS", rawRaftClients)
	before, err := b.rawRaft(ctx, filepath.Join(root, "rawraft-tls"), true)
	if err != nil {
		return err
	}
	first := len(b.rep.rows)
	if err := b.procFigures(ctx, root); err != nil {
		return err
	}
	// The yardstick runs again after Casare's figures. Raw Raft with 64
	// applies in flight waits on every round trip, so a slow moment of the
	// machine costs it far more than it costs Casare, which keeps both
	// cores busy: one measurement could swing the ratios by a factor of
	// two. The higher of the two is the yardstick, so a slow moment can
	// only make the aims harder.
	b.progress("raw Raft again after Casare's figures, mutual TLS")
	after, err := b.rawRaft(ctx, filepath.Join(root, "rawraft-tls-after"), true)
	if err != nil {
		return err
	}
	raw := max(before.rate(), after.rate())
	figures := slices.Clone(b.rep.rows[first:])
	b.rep.rows = b.rep.rows[:first]
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("raw Raft (hashicorp/raft + raft-boltdb), %d concurrent applies, plain TCP", rawRaftClients),
		value: plain.rate(), unit: "applies/s", ratio: plain.rate() / raw, cpu: plain.cpuPerApply(), note: plain.note()})
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("raw Raft, %d concurrent applies, mutual TLS, before Casare's figures", rawRaftClients),
		value: before.rate(), unit: "applies/s", ratio: before.rate() / raw, cpu: before.cpuPerApply(), note: before.note()})
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("raw Raft, %d concurrent applies, mutual TLS, after Casare's figures", rawRaftClients),
		value: after.rate(), unit: "applies/s", ratio: after.rate() / raw, cpu: after.cpuPerApply(), note: after.note()})
	b.addProc(row{nodes: procSize, figure: "raw Raft over mutual TLS as nodes run it, the higher of the two (the yardstick)",
		value: raw, unit: "applies/s", ratio: 1})
	for _, x := range figures {
		if x.ratioTarget != nil {
			x.ratio = x.value / raw
		}
		b.rep.rows = append(b.rep.rows, x)
	}
	return nil
}

// procFigures starts three casare processes without robots for the
// submit figures, then three with every node's robot for the end-to-end
// figure and claim latency. Ratios to raw Raft are filled in by the
// caller, which measures raw Raft on both sides of them.
func (b *bench) procFigures(ctx context.Context, root string) error {
	b.progress("starting %d casare processes without robots", procSize)
	c, err := startProcCluster(ctx, b.cfg.bin, filepath.Join(root, "submit"), procSize, false, b.cfg.cpuprofile != "", b.cfg.capacity)
	if err != nil {
		return err
	}
	err = b.procSubmits(ctx, c)
	c.close()
	if err != nil || b.cfg.submitOnly {
		return err
	}

	b.progress("starting %d casare processes with robots, %d slots each", procSize, b.cfg.capacity)
	c, err = startProcCluster(ctx, b.cfg.bin, filepath.Join(root, "robots"), procSize, true, b.cfg.cpuprofile != "", b.cfg.capacity)
	if err != nil {
		return err
	}
	defer c.close()
	if err := b.procEndToEnd(ctx, c); err != nil {
		return err
	}
	return b.procLatency(ctx, c)
}

// rawRaft runs this program again as the raw Raft helper and reads its result.
func (b *bench) rawRaft(ctx context.Context, dir string, tls bool) (rawRaftResult, error) {
	self, err := os.Executable()
	if err != nil {
		return rawRaftResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-rawraft-helper", dir, "-rawraft-tls="+strconv.FormatBool(tls),
		"-rawraft-warm", b.d.warm.String(), "-rawraft-window", b.d.raft.String())
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return rawRaftResult{}, fmt.Errorf("raw raft helper: %w", err)
	}
	var res rawRaftResult
	if err := json.Unmarshal(out, &res); err != nil || res.Seconds == 0 {
		return res, fmt.Errorf("raw raft helper printed %q: %v", out, err)
	}
	return res, nil
}

// procLoad runs runLoad and takes the nodes' CPU time over the same
// window, and a note of where the window's writes spent their time
// (timingsNote). With -cpuprofile, each node's CPU profile covers the
// window.
func (b *bench) procLoad(ctx context.Context, c *procCluster, name string, workers int, fn op) (res loadResult, nodeCPU time.Duration, timings string) {
	var wg sync.WaitGroup
	start := time.Now().Add(b.d.warm)
	wg.Go(func() {
		time.Sleep(time.Until(start))
		profiled := b.profileProcs(ctx, c, name, b.d.submit)
		before := c.timings(ctx)
		time.Sleep(b.d.submit)
		after := c.timings(ctx)
		nodeCPU, timings = after.usage.cpu-before.usage.cpu, c.timingsNote(before, after)
		if err := profiled(); err != nil {
			b.progress("warning: %v", err)
		}
	})
	res = runLoad(ctx, workers, b.d.warm, b.d.submit, c.appliedIndex(ctx), fn)
	wg.Wait()
	return res, nodeCPU, timings
}

func (b *bench) procSubmits(ctx context.Context, c *procCluster) error {
	wfID, err := createWorkflow(ctx, c.clients[0], "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	one := api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"}
	called, label, err := c.called(ctx, b.cfg.via)
	if err != nil {
		return err
	}
	b.progress("single submits, %d clients %s", singleClients, label)
	subs, err := c.submitters(called, singleClients, "/api/v1/jobs", one)
	if err != nil {
		return err
	}
	defer closeSubmitters(subs)
	var single loadResult
	var cpu time.Duration
	var timings string
	_ = b.figure(procSize, "procs-submit-single", func() error {
		single, cpu, timings = b.procLoad(ctx, c, "procs-submit-single", singleClients, func(ctx context.Context, w int) (int, error) {
			return 1, subs[w].submit(ctx)
		})
		return nil
	})
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("submit, POST /jobs, %d clients %s", singleClients, label),
		value: single.rate(), unit: "jobs/s", ratioTarget: atLeast(0.6), cpu: perItem(cpu, single.items),
		note: entriesNote(single) + latencyNote(single) + loadgenNote(single) + timings})

	batch := api.BatchJobsRequest{Jobs: slices.Repeat([]api.JobRequest{one}, batchSize)}
	// Again: leadership may have moved during the single submits.
	if called, label, err = c.called(ctx, b.cfg.via); err != nil {
		return err
	}
	b.progress("batched submits ×%d, %d clients %s", batchSize, batchClients, label)
	batchSubs, err := c.submitters(called, batchClients, "/api/v1/jobs/batch", batch)
	if err != nil {
		return err
	}
	defer closeSubmitters(batchSubs)
	var batched loadResult
	_ = b.figure(procSize, "procs-submit-batch", func() error {
		batched, cpu, timings = b.procLoad(ctx, c, "procs-submit-batch", batchClients, func(ctx context.Context, w int) (int, error) {
			if err := batchSubs[w].submit(ctx); err != nil {
				return 0, err
			}
			return batchSize, nil
		})
		return nil
	})
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("submit, POST /jobs/batch ×%d, %d clients %s", batchSize, batchClients, label),
		value: batched.rate(), unit: "jobs/s", ratioTarget: atLeast(4), cpu: perItem(cpu, batched.items),
		note: entriesNote(batched) + latencyNote(batched) + loadgenNote(batched) + timings})
	if single.items == 0 || batched.items == 0 {
		return fmt.Errorf("no submit succeeded (single: %v; batched: %v)", single.firstErr, batched.firstErr)
	}
	return nil
}

// called is which nodes the submit clients call (indexes into c.nodes)
// and how the figures say it: all of them, or with -via leader the one
// leading now, which shows what a follower's forward adds.
func (c *procCluster) called(ctx context.Context, via string) ([]int, string, error) {
	if via != "leader" {
		all := make([]int, len(c.nodes))
		for i := range all {
			all[i] = i
		}
		return all, "over all nodes", nil
	}
	leader, err := c.leaderNode(ctx)
	if err != nil {
		return nil, "", err
	}
	return []int{slices.Index(c.nodes, leader)}, "via the leader", nil
}

func loadgenNote(r loadResult) string {
	return fmt.Sprintf("; load generator %s µs/item", formatValue(r.cpuPerItem()))
}

// procEndToEnd queues no-op jobs in batches of e2eBatch from e2eSubmitters
// clients over all nodes and waits until the first node's replica shows
// none queued or running: submit → succeeded for every job, over REST.
func (b *bench) procEndToEnd(ctx context.Context, c *procCluster) error {
	wfID, err := createWorkflow(ctx, c.clients[0], "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	b.progress("end-to-end, %d no-op jobs", b.cfg.e2eJobs)
	req := slices.Repeat([]api.JobRequest{{WorkflowID: wfID, ExecutionMode: "lan"}}, e2eBatch)
	res, err := b.drain(ctx, c, req, b.cfg.e2eJobs, "procs-e2e")
	if err != nil {
		return fmt.Errorf("end-to-end: %w", err)
	}
	b.addProc(row{nodes: procSize, figure: fmt.Sprintf("end-to-end no-op, submit→succeeded, %d robot slots", procSize*b.cfg.capacity),
		value: res.rate(), unit: "jobs/s", ratioTarget: atLeast(2), cpu: perItem(res.cpu, res.done), note: res.note()})
	return nil
}

// drain submits total jobs (req at a time) from e2eSubmitters clients
// over all nodes and waits until the first node's replica shows none
// queued or running. The nodes' profile, named name, covers the submits
// and the first seconds of draining.
func (b *bench) drain(ctx context.Context, c *procCluster, req []api.JobRequest, total int, name string) (drainResult, error) {
	var res drainResult
	ctx, cancel := context.WithTimeout(ctx, b.d.e2eTimeout)
	defer cancel()
	before, err := c.clients[0].QueueStats(ctx, client.Consistent())
	if err != nil {
		return res, fmt.Errorf("queue stats: %w", err)
	}
	cl0, err := c.clients[0].Cluster(ctx, client.Consistent())
	if err != nil {
		return res, fmt.Errorf("cluster: %w", err)
	}
	all, _, err := c.called(ctx, "")
	if err != nil {
		return res, err
	}
	subs, err := c.submitters(all, e2eSubmitters, "/api/v1/jobs/batch", api.BatchJobsRequest{Jobs: req})
	if err != nil {
		return res, err
	}
	defer closeSubmitters(subs)
	var next, errs atomic.Int64
	var wg sync.WaitGroup
	profiled := b.profileProcs(ctx, c, name, 3*time.Second)
	t0, timings0 := time.Now(), c.timings(ctx)
	for _, s := range subs {
		wg.Go(func() {
			for next.Add(int64(len(req))) <= int64(total) && ctx.Err() == nil {
				if err := s.submit(ctx); err != nil {
					errs.Add(1)
				}
			}
		})
	}
	wg.Wait()
	res.submitted, res.errs = time.Since(t0), errs.Load()
	var after, seen api.QueueStats
	for {
		after, err = c.clients[0].QueueStats(ctx)
		if err == nil && after.ByState["queued"]+after.ByState["running"] == 0 {
			break
		}
		if err == nil {
			seen = after
		}
		if ctx.Err() != nil {
			return res, fmt.Errorf("%d of %d jobs submitted, %d queued, %d running and %d succeeded at the last answer; after %v the stats fail with: %v",
				min(next.Load(), int64(total)), total, seen.ByState["queued"], seen.ByState["running"], seen.ByState["succeeded"], b.d.e2eTimeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	res.elapsed = time.Since(t0) // before the nodes' metrics are read
	timings1 := c.timings(ctx)
	res.cpu, res.timings = timings1.usage.cpu-timings0.usage.cpu, c.timingsNote(timings0, timings1)
	if err := profiled(); err != nil {
		b.progress("warning: %v", err)
	}
	cl1, err := c.clients[0].Cluster(ctx)
	if err != nil {
		return res, fmt.Errorf("cluster: %w", err)
	}
	res.done, res.entries = after.ByState["succeeded"]-before.ByState["succeeded"], cl1.AppliedIndex-cl0.AppliedIndex
	if res.done == 0 {
		return res, fmt.Errorf("no job succeeded")
	}
	return res, nil
}

// procLatency submits probe jobs at a fixed rate over all nodes; the
// probe's first node calls back into this process, so claim latency is
// that moment minus the submit's 2xx, on one clock.
func (b *bench) procLatency(ctx context.Context, c *procCluster) error {
	marks, err := listenMarks()
	if err != nil {
		return err
	}
	defer marks.close()
	probeID, err := createWorkflow(ctx, c.clients[0], "bench-probe", fmt.Sprintf(probeWorkflow, marks.url))
	if err != nil {
		return err
	}
	b.progress("claim latency at %d jobs/s", b.cfg.latencyRate)
	clients := func(w int) *client.Client { return c.clients[w%len(c.clients)] }
	applied := c.appliedIndex(ctx)
	start, before, timings := applied(), c.appliedEntries(ctx), c.timings(ctx)
	disk := startDiskCount(c.nodes[0].dir) // the nodes' data dirs share one parent, so one disk
	lat, _, err := b.measureLatency(ctx, clients, probeID, marks)
	if err != nil {
		return err
	}
	lat.entries = float64(applied()-start) / float64(len(lat.ackToRun))
	byCommand := entriesPerItem(before, c.appliedEntries(ctx), len(lat.ackToRun))
	diskNote := disk.note(len(lat.ackToRun))
	timingsNote := c.timingsNote(timings, c.timings(ctx))
	b.others = -1
	for _, p := range []float64{50, 99} {
		b.addProc(row{nodes: procSize, figure: fmt.Sprintf("claim latency p%d, submit 2xx → robot runs job", int(p)),
			value: ms(percentile(lat.ackToRun, p)), unit: "ms", target: atMost(map[float64]float64{50: 5, 99: 50}[p]),
			note: fmt.Sprintf("%d jobs at %d/s, %.2f Raft entries per job (%s); %s; sent→run %s; submit RTT %s; %d never started, %d submit errors%s",
				len(lat.ackToRun), lat.rate, lat.entries, byCommand, diskNote, fmtMS(percentile(lat.sendToRun, p)), fmtMS(percentile(lat.submitRTT, p)), lat.missing, lat.errs, timingsNote)})
	}
	return nil
}

// addProc reports a real-process figure. Other processes' CPU share is
// not shown: the three nodes are other processes to this one.
func (b *bench) addProc(x row) {
	b.others = -1
	b.add(x)
}
