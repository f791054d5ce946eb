//go:build unix

package main

import (
	"strings"
	"testing"
)

func TestSpreadJudgesTheMedianOfRuns(t *testing.T) {
	single := func(v, ratio, cpu float64) row {
		return row{nodes: 3, figure: "submit", value: v, unit: "jobs/s", ratio: ratio, ratioTarget: atLeast(0.6), cpu: cpu}
	}
	latency := func(v float64) row {
		return row{nodes: 3, figure: "claim p50", value: v, unit: "ms", target: atMost(5)}
	}
	runs := [][]row{
		{single(3000, 0.70, 300), latency(4)},
		{single(2000, 0.40, 250), latency(9)},
		// The third run lost its latency figure.
		{single(2500, 0.65, 400)},
	}
	var out strings.Builder
	printSpread(&out, spreadOf(runs))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a head and two figures, got:\n%s", out.String())
	}
	for _, want := range []string{"2,000 / 2,500 / 3,000", "0.40 / 0.65 / 0.70", "×raft64 ≥ 0.60 ok", "250 / 300 / 400"} {
		if !strings.Contains(lines[1], want) {
			t.Errorf("submit line lacks %q:\n%s", want, lines[1])
		}
	}
	// Two runs of latency: the median is their mean, 6.5 ms, over the aim.
	for _, want := range []string{"4.00 / 6.50 / 9.00", "≤ 5.00 MISS", "missing from 1 run(s)"} {
		if !strings.Contains(lines[2], want) {
			t.Errorf("latency line lacks %q:\n%s", want, lines[2])
		}
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{5}, 5}, {[]float64{9, 1, 4}, 4}, {[]float64{4, 1, 9, 2}, 3}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
