//go:build unix

package main

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// A write's latency is mostly waiting: for the entry in flight, then
// for its own entry's log writes on the leader and on a follower, and on
// a follower for the forward to the leader. The nodes time each of these
// (consensus/timings.go); a window's mean of each, beside how busy the
// machine was, says whether a figure was bound by the disk, the
// pipeline's round trips or the CPU. The nodes' page faults say how much
// fresh memory the window touched: on these virtual machines a fault
// cost about 11 µs (docs/performance.md, 3 December, 17:20).

// timingLine reads the sum and count of the write timing histograms.
var timingLine = regexp.MustCompile(`(?m)^casare_raft_(log_write|commit|forward|forward_wait)_seconds_(sum|count) (\S+)$`)

// nodeTimings is one node's write timing histograms: name (log_write,
// commit, forward, forward_wait) → sum in seconds and count.
type nodeTimings map[string][2]float64

// windowTimings is what the cluster's nodes and the machine measured at
// the start or the end of a window.
type windowTimings struct {
	nodes   []nodeTimings // as c.nodes, nil where unreadable
	leader  string
	machine cpuSample
	usage   usage // the nodes', read first: a figure's CPU window
}

func (c *procCluster) timings(ctx context.Context) windowTimings {
	used := procUsage(c.pids())
	w := windowTimings{nodes: make([]nodeTimings, len(c.nodes)), leader: c.leaderName(ctx), machine: sampleCPU(), usage: used}
	for i, cl := range c.clients {
		body, err := cl.Metrics(ctx)
		if err != nil {
			continue
		}
		t := nodeTimings{}
		for _, m := range timingLine.FindAllSubmatch(body, -1) {
			v, err := strconv.ParseFloat(string(m[3]), 64)
			if err != nil {
				continue
			}
			pair := t[string(m[1])]
			if string(m[2]) == "sum" {
				pair[0] = v
			} else {
				pair[1] = v
			}
			t[string(m[1])] = pair
		}
		w.nodes[i] = t
	}
	return w
}

// timingsNote says, for the window from a to b, the means of the
// leader's commits, log writes and waits for forwards (and after what
// share of its writes it waited), of the followers' forwards and log
// writes, how busy the machine was and how many page faults the nodes
// took.
func (c *procCluster) timingsNote(a, b windowTimings) string {
	if a.leader == "" || a.leader != b.leader {
		return "" // leadership moved: the roles' means would mix
	}
	sums := func(leader bool, name string) (sum, n float64) {
		for i, node := range c.nodes {
			if (node.name == a.leader) != leader || a.nodes[i] == nil || b.nodes[i] == nil {
				continue
			}
			sum += b.nodes[i][name][0] - a.nodes[i][name][0]
			n += b.nodes[i][name][1] - a.nodes[i][name][1]
		}
		return sum, n
	}
	mean := func(leader bool, name string) string {
		sum, n := sums(leader, name)
		if n == 0 {
			return "–"
		}
		return formatValue(sum/n*1000) + " ms"
	}
	// How often the leader waited for forwards says as much as how long.
	waited := mean(true, "forward_wait")
	if _, waits := sums(true, "forward_wait"); waits > 0 {
		if _, commits := sums(true, "commit"); commits > 0 {
			waited += fmt.Sprintf(" (after %.0f%% of its entries)", 100*waits/commits)
		}
	}
	note := fmt.Sprintf("; means: leader commit %s, log write %s, wait for forwards %s; followers forward %s, log write %s",
		mean(true, "commit"), mean(true, "log_write"), waited, mean(false, "forward"), mean(false, "log_write"))
	if busy, kernel, ok := machineShares(a.machine, b.machine); ok {
		note += fmt.Sprintf("; machine %.0f%% busy, %.0f%% in the kernel", busy*100, kernel*100)
	}
	if b.usage.faults >= a.usage.faults {
		note += fmt.Sprintf("; nodes' page faults %d", b.usage.faults-a.usage.faults)
	}
	return note
}
