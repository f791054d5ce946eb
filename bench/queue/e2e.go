//go:build unix

package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
)

// The end-to-end jobs are queued by e2eSubmitters clients in batches of
// e2eBatch, the API's maximum, so that the figure is bounded by claims
// and completions rather than by the submit path measured on its own.
const (
	e2eSubmitters = 4
	e2eBatch      = 1000
)

// e2eResult is one end-to-end run.
type e2eResult struct {
	jobs      int           // acknowledged by the API
	submitted time.Duration // first submit sent → last submit acknowledged
	elapsed   time.Duration // first submit sent → last job finished
	entries   uint64        // Raft entries the leader applied meanwhile
	cpu       time.Duration // this process's CPU time meanwhile
	counts    map[consensus.JobState]int
	timedOut  bool
	errs      int
	firstErr  error
}

// endToEnd queues total no-op jobs through the batch API and waits until
// the nodes' built-in robots have run them all. It measures from the
// first submit to the moment the leader's replica holds no queued and no
// running job: every acknowledged submit is applied on the leader, so
// that moment is when the last job succeeded (to within one poll).
func (b *bench) endToEnd(ctx context.Context, c *cluster, wfID string, total int) (e2eResult, error) {
	var res e2eResult
	lead := c.leader()
	if lead == nil {
		return res, fmt.Errorf("no leader")
	}
	st := lead.Store()
	before, _ := st.JobCounts() // once, before the clock starts
	startIndex := st.AppliedIndex()
	ctx, cancel := context.WithTimeout(ctx, b.d.e2eTimeout)
	defer cancel()

	req := make([]api.JobRequest, e2eBatch)
	for i := range req {
		req[i] = api.JobRequest{WorkflowID: wfID, ExecutionMode: "lan"}
	}
	var next, acked atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	t0, cpu0 := time.Now(), processCPU()
	for w := range e2eSubmitters {
		wg.Go(func() {
			for next.Add(e2eBatch) <= int64(total) && ctx.Err() == nil {
				jobs, err := b.client(c, w).SubmitJobs(ctx, req)
				if err != nil {
					mu.Lock()
					if res.errs++; res.firstErr == nil {
						res.firstErr = err
					}
					mu.Unlock()
					continue
				}
				acked.Add(int64(len(jobs)))
			}
		})
	}
	wg.Wait()
	res.submitted = time.Since(t0)
	res.jobs = int(acked.Load())

	// Cheap on the leader: HasClaimable stops at the first eligible
	// queued job and RunningJobs walks only the running ones, unlike
	// JobCounts, which walks every job ever queued.
	probe := consensus.ClaimCmd{RobotID: "bench-probe", RobotKind: consensus.RobotLAN}
	for {
		if !st.HasClaimable(probe, time.Now()) && len(st.RunningJobs()) == 0 {
			break
		}
		if ctx.Err() != nil {
			res.timedOut = true
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	res.elapsed = time.Since(t0)
	res.cpu = processCPU() - cpu0
	res.entries = st.AppliedIndex() - startIndex
	after, _ := st.JobCounts()
	res.counts = map[consensus.JobState]int{}
	for s, n := range after {
		res.counts[s] = n - before[s]
	}
	return res, nil
}

// rate is finished jobs per second; on a time-out it counts the jobs
// that finished in time.
func (r e2eResult) rate() float64 {
	done := r.counts[consensus.JobSucceeded] + r.counts[consensus.JobFailed] + r.counts[consensus.JobDead]
	return float64(done) / r.elapsed.Seconds()
}

func (r e2eResult) note() string {
	s := fmt.Sprintf("%d jobs; submits done at %s, last succeeded at %s; succeeded %d, failed %d, dead %d",
		r.jobs, fmtSeconds(r.submitted), fmtSeconds(r.elapsed),
		r.counts[consensus.JobSucceeded], r.counts[consensus.JobFailed], r.counts[consensus.JobDead])
	if r.timedOut {
		s += fmt.Sprintf("; TIMED OUT with %d queued, %d running", r.counts[consensus.JobQueued], r.counts[consensus.JobRunning])
	}
	if r.errs > 0 {
		s += fmt.Sprintf("; %d submit errors, first: %v", r.errs, r.firstErr)
	}
	return s
}

func fmtSeconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }
