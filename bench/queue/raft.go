//go:build unix

package main

import (
	"context"
	"fmt"
	"time"
)

// raftFigures measures the bare Raft apply rate on the leader. Noop takes
// the same path as every command (stamp the leader's clock, raft.Apply,
// wait for the FSM's answer) but its handler does nothing, so the gap
// between it and a real command is the cost of our code, not of Raft.
// It returns the 64-concurrent rate, the yardstick of the other figures.
// With robots set, every node runs an idle robot, and only the
// concurrent rate is taken.
func (b *bench) raftFigures(ctx context.Context, c *cluster, size int, robots bool) (float64, error) {
	label, file := "", "raft-noop-64"
	if robots {
		label, file = " (robots idle)", "raft-noop-64-robots"
	}
	lead := c.leader()
	if lead == nil {
		return 0, fmt.Errorf("no leader")
	}
	st := lead.Store()
	noop := func(ctx context.Context, _ int) (int, error) { return 1, st.Noop(ctx) }

	var concurrent loadResult
	err := b.figure(size, file, func() error {
		concurrent = runLoad(ctx, 64, b.d.warm, b.d.raft, nil, noop)
		return concurrent.firstErr
	})
	if err != nil {
		return 0, err
	}
	rate := concurrent.rate()
	b.add(row{
		nodes: size, figure: "raft apply, 64 concurrent Store.Noop on leader" + label, value: rate, unit: "applies/s",
		ratio: 1, cpu: concurrent.cpuPerItem(), note: latencyNote(concurrent),
	})
	if robots {
		return rate, nil
	}
	var one loadResult
	err = b.figure(size, "raft-noop-1", func() error {
		one = runLoad(ctx, 1, b.d.warm, b.d.raftSerial, nil, noop)
		return one.firstErr
	})
	if err != nil {
		return 0, err
	}
	b.add(row{
		nodes: size, figure: "raft apply, one Store.Noop at a time", value: one.rate(), unit: "applies/s",
		ratio: one.rate() / rate, cpu: one.cpuPerItem(), note: latencyNote(one),
	})
	return rate, nil
}

// latencyNote summarises the per-request latency of a load run.
func latencyNote(r loadResult) string {
	s := fmt.Sprintf("per call p50 %s p99 %s", fmtMS(percentile(r.lat, 50)), fmtMS(percentile(r.lat, 99)))
	if r.errs > 0 {
		s += fmt.Sprintf("; %d errors, first: %v", r.errs, r.firstErr)
	}
	return s
}

func fmtMS(d time.Duration) string { return formatValue(ms(d)) + " ms" }
