//go:build unix

package main

import (
	"context"
	"slices"
	"sync"
	"time"
)

// op is one request of a closed-loop worker. It returns how many items
// (jobs, applies) the request carried.
type op func(ctx context.Context, worker int) (items int, err error)

// loadResult is what completed inside the measured window.
type loadResult struct {
	ops, items int
	errs       int
	firstErr   error
	window     time.Duration
	cpu        time.Duration   // this process's CPU time in the window
	entries    uint64          // Raft entries applied in the window, when counted
	lat        []time.Duration // of the ops in the window, sorted
}

// rate is items per second over the window.
func (r loadResult) rate() float64 { return float64(r.items) / r.window.Seconds() }

// cpuPerItem is the process's CPU time per item in microseconds: nodes,
// robots and load generator together.
func (r loadResult) cpuPerItem() float64 { return perItem(r.cpu, r.items) }

func perItem(cpu time.Duration, items int) float64 {
	if items == 0 {
		return 0
	}
	return float64(cpu) / float64(time.Microsecond) / float64(items)
}

// runLoad runs workers closed-loop workers for warm+dur and counts the
// requests that completed in the last dur only: the warm-up fills
// connection pools and Raft's pipeline so the window sees steady state.
// Workers stop issuing at the end of the window; a request still in
// flight then finishes but is not counted.
//
// appliedIndex, when not nil, reads the leader's applied index so that
// the result counts the Raft entries the window took.
func runLoad(ctx context.Context, workers int, warm, dur time.Duration, appliedIndex func() uint64, fn op) loadResult {
	start := time.Now().Add(warm)
	end := start.Add(dur)
	// The bound only matters if the cluster wedges: no request should
	// take anywhere near this long.
	ctx, cancel := context.WithDeadline(ctx, end.Add(30*time.Second))
	defer cancel()
	var mu sync.Mutex
	res := loadResult{window: dur}
	var wg sync.WaitGroup
	wg.Go(func() {
		time.Sleep(time.Until(start))
		cpu, index := processCPU(), readIndex(appliedIndex)
		time.Sleep(time.Until(end))
		res.cpu = processCPU() - cpu
		res.entries = readIndex(appliedIndex) - index
	})
	for w := range workers {
		wg.Go(func() {
			var local loadResult
			for t0 := time.Now(); t0.Before(end) && ctx.Err() == nil; t0 = time.Now() {
				n, err := fn(ctx, w)
				t1 := time.Now()
				if t1.Before(start) || t1.After(end) {
					continue
				}
				if err != nil {
					if local.errs++; local.firstErr == nil {
						local.firstErr = err
					}
					continue
				}
				local.ops++
				local.items += n
				local.lat = append(local.lat, t1.Sub(t0))
			}
			mu.Lock()
			res.ops += local.ops
			res.items += local.items
			res.errs += local.errs
			if res.firstErr == nil {
				res.firstErr = local.firstErr
			}
			res.lat = append(res.lat, local.lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(res.lat)
	return res
}

func readIndex(appliedIndex func() uint64) uint64 {
	if appliedIndex == nil {
		return 0
	}
	return appliedIndex()
}

// percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted, or 0 for no samples.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
