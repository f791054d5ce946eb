//go:build unix

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// runProcsN runs the real-process table (runProcs) n times, each on
// fresh clusters and with its own raw Raft yardstick, prints each run's
// table as it ends, then one table of the minimum, median and maximum of
// every figure's value, ratio to raw Raft and CPU per item over the runs:
// on a shared machine one run says little, and the aims are judged on
// the median. A run that fails (on a crowded machine a cluster can miss
// its start-up deadline) is reported and left out; the table says how
// many runs it is over.
func (b *bench) runProcsN(ctx context.Context, root string, n int) error {
	var runs [][]row
	var failed []error
	for i := range n {
		b.progress("run %d of %d", i+1, n)
		b.rep = report{}
		start := time.Now()
		if err := b.runProcs(ctx, filepath.Join(root, "run-"+strconv.Itoa(i+1))); err != nil {
			if ctx.Err() != nil {
				return err
			}
			failed = append(failed, fmt.Errorf("run %d of %d: %w", i+1, n, err))
			fmt.Printf("\nrun %d of %d failed after %s: %v\n", i+1, n, time.Since(start).Round(100*time.Millisecond), err)
			continue
		}
		fmt.Printf("\nrun %d of %d (%s, load average now %s):\n", i+1, n, time.Since(start).Round(100*time.Millisecond), loadAverage())
		b.rep.print(os.Stdout)
		runs = append(runs, b.rep.rows)
	}
	if len(runs) == 0 {
		return errors.Join(failed...)
	}
	fmt.Printf("\nover %d runs (%d failed): min / median / max\n", len(runs), len(failed))
	printSpread(os.Stdout, spreadOf(runs))
	return nil
}

// spread is one figure over several runs.
type spread struct {
	first          row // the figure, unit and aims, from the first run
	values, ratios []float64
	cpus           []float64
	missing        int // runs that did not report the figure
}

// spreadOf gathers every figure of the first run over all runs, matched
// by figure name; a run without it counts as missing.
func spreadOf(runs [][]row) []spread {
	if len(runs) == 0 {
		return nil
	}
	var out []spread
	for _, x := range runs[0] {
		s := spread{first: x}
		for _, run := range runs {
			i := slices.IndexFunc(run, func(y row) bool { return y.figure == x.figure && y.nodes == x.nodes })
			if i < 0 {
				s.missing++
				continue
			}
			s.values = append(s.values, run[i].value)
			s.ratios = append(s.ratios, run[i].ratio)
			s.cpus = append(s.cpus, run[i].cpu)
		}
		out = append(out, s)
	}
	return out
}

// printSpread writes the min/median/max table; the aim is judged on the
// medians.
func printSpread(w io.Writer, spreads []spread) {
	cells := [][]string{{"nodes", "figure", "value min / median / max", "unit", "×raft64 min / median / max", "aim, on the median", "CPU µs/item min / median / max", "note"}}
	for _, s := range spreads {
		note := ""
		if s.missing > 0 {
			note = fmt.Sprintf("missing from %d run(s)", s.missing)
		}
		ratios := ""
		if s.first.ratio > 0 {
			ratios = triple(s.ratios, func(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) })
		}
		cpus := ""
		if s.first.cpu > 0 {
			cpus = triple(s.cpus, formatValue)
		}
		cells = append(cells, []string{strconv.Itoa(s.first.nodes), s.first.figure, triple(s.values, formatValue), s.first.unit,
			ratios, s.first.goal(median(s.values), median(s.ratios)), cpus, note})
	}
	printCells(w, cells, []bool{true, false, true, false, true, false, true, false})
}

// triple prints the minimum, median and maximum of vs.
func triple(vs []float64, format func(float64) string) string {
	if len(vs) == 0 {
		return ""
	}
	return format(slices.Min(vs)) + " / " + format(median(vs)) + " / " + format(slices.Max(vs))
}

// median is the middle value, or the mean of the two middle ones; 0 for
// none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
