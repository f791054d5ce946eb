//go:build unix

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/casare/casare/api/client"
	api "github.com/casare/casare/api/wire"
)

// The schedule figures (-schedules): how late an every-second schedule's
// jobs are queued on three casare processes, and how long after the
// leader is killed (SIGKILL) the new leader queues its first fire.
// Lateness is the job's created_at (the leader's clock, stamped into
// the fire's entry) minus its fire_time; the kill figure is the first
// created_at after the kill minus the moment of the kill, on the clock
// of this machine that every process shares.

const (
	// everySecond is the finest timetable cron allows: a leading
	// seconds field.
	everySecond = "* * * * * *"
	// leaderKills is how many times the leader is killed for the median.
	leaderKills = 5
)

func (b *bench) runSchedules(ctx context.Context, root string) error {
	bin, err := filepath.Abs(b.cfg.bin)
	if err != nil {
		return err
	}
	fires := 100
	if b.cfg.quick {
		fires = 20
	}
	fmt.Printf("three casare processes (%s) without robots, one schedule %q; load average at start: %s\n",
		bin, everySecond, loadAverage())
	c, err := startProcCluster(ctx, bin, filepath.Join(root, "schedules"), procSize, false, false, 1)
	if err != nil {
		return err
	}
	defer c.close()
	wfID, err := createWorkflow(ctx, c.clients[0], "bench-noop", noopWorkflow)
	if err != nil {
		return err
	}
	sc, err := c.clients[0].CreateSchedule(ctx, api.ScheduleRequest{WorkflowID: wfID, Cron: everySecond})
	if err != nil {
		return fmt.Errorf("create schedule: %w", err)
	}
	b.progress("waiting for %d fires (%d s)", fires, fires)
	cpuBefore := procCPU(c.pids())
	jobs, err := waitFires(ctx, c.clients[0], sc.ID, fires, time.Duration(fires)*time.Second+30*time.Second)
	if err != nil {
		return err
	}
	cpu := procCPU(c.pids()) - cpuBefore
	b.addLateness(jobs[:fires], cpu)
	return b.leaderKillRows(ctx, c, sc.ID)
}

// addLateness reports p50, p99 and max of fire_time → created_at.
func (b *bench) addLateness(jobs []api.Job, cpu time.Duration) {
	late := make([]time.Duration, len(jobs))
	for i, j := range jobs {
		late[i] = j.CreatedAt.Sub(j.FireTime)
	}
	slices.Sort(late)
	note := fmt.Sprintf("over %d fires; min %v; the 3 processes' CPU %v in all; load %s", len(late), late[0].Round(10*time.Microsecond), cpu, loadAverage())
	for _, p := range []struct {
		name  string
		value time.Duration
		aim   float64
	}{{"p50", percentile(late, 50), 10}, {"p99", percentile(late, 99), 100}, {"max", late[len(late)-1], 100}} {
		b.rep.add(row{nodes: procSize, figure: "schedule lateness " + p.name + ", fire time → job queued (every second)",
			value: ms(p.value), unit: "ms", target: atMost(p.aim), note: note, others: -1})
	}
}

// leaderKillRows kills the leader leaderKills times, each time
// measuring the time to the new leader's first fire and restarting the
// killed node, and reports the median, with where each kill's time went.
func (b *bench) leaderKillRows(ctx context.Context, c *procCluster, scheduleID string) error {
	var took []time.Duration
	var each []string
	for i := range leaderKills {
		b.progress("leader kill %d of %d", i+1, leaderKills)
		k, err := killLeaderOnce(ctx, c, scheduleID)
		if err != nil {
			return fmt.Errorf("leader kill %d: %w", i+1, err)
		}
		took = append(took, k.fired)
		each = append(each, k.String())
	}
	sorted := slices.Sorted(slices.Values(took))
	b.rep.add(row{nodes: procSize, figure: "SIGKILL of the leader → first fire queued by the new leader, median",
		value: ms(sorted[len(sorted)/2]), unit: "ms", target: atMost(1500), others: -1,
		note: fmt.Sprintf("%d kills: %s; load %s", len(took), strings.Join(each, "; "), loadAverage())})
	return nil
}

// leaderKill is what one kill took, from the SIGKILL: until a follower
// gave up on the leader (its heartbeat timeout), until the new leader
// won its election, until it began its duties (after its barrier), and
// until its first fire was queued. The first three are from the nodes'
// logs, zero when not found.
type leaderKill struct{ timeout, won, duties, fired time.Duration }

func (k leaderKill) String() string {
	r := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	return fmt.Sprintf("%s (no heartbeat %s, elected %s, duties %s)", r(k.fired), r(k.timeout), r(k.won), r(k.duties))
}

// Log messages that mark the steps of a leader change (hashicorp/raft's
// and consensus's).
const (
	logHeartbeatTimeout = "heartbeat timeout reached"
	logLeaderState      = "entering leader state"
	logGainedLeadership = "gained leadership"
)

// killLeaderOnce kills the leader with SIGKILL, waits for the first job
// of the schedule created after the kill, reads from the survivors' logs
// where the time went, restarts the killed process on its data dir and
// waits until the three agree on a leader again.
func killLeaderOnce(ctx context.Context, c *procCluster, scheduleID string) (leaderKill, error) {
	leader, err := c.leaderNode(ctx)
	if err != nil {
		return leaderKill{}, err
	}
	var others []*procNode
	for _, n := range c.nodes {
		if n != leader {
			others = append(others, n)
		}
	}
	killed := time.Now()
	if err := leader.cmd.Process.Kill(); err != nil {
		return leaderKill{}, fmt.Errorf("kill %s: %w", leader.name, err)
	}
	_ = leader.cmd.Wait() // killed: it exits non-zero
	first, err := firstFireAfter(ctx, others[0].client, scheduleID, killed, 30*time.Second)
	if err != nil {
		return leaderKill{}, err
	}
	k := leaderKill{fired: first.Sub(killed)}
	for _, n := range others {
		k.timeout = earliest(k.timeout, logMark(n, logHeartbeatTimeout, killed))
		k.won = earliest(k.won, logMark(n, logLeaderState, killed))
		k.duties = earliest(k.duties, logMark(n, logGainedLeadership, killed))
	}
	if err := restartProc(leader, leader.cmd.Args[1:]); err != nil {
		return leaderKill{}, err
	}
	return k, c.waitReady(ctx, len(c.nodes))
}

// earliest is the smaller of two durations, where zero means none.
func earliest(a, b time.Duration) time.Duration {
	if a == 0 || (b != 0 && b < a) {
		return b
	}
	return a
}

// logMark returns how long after t node n first logged msg, or zero when
// it did not (lines are slog's text: time=RFC3339 … msg="…").
func logMark(n *procNode, msg string, t time.Time) time.Duration {
	data, err := os.ReadFile(filepath.Join(n.dir, "node.log"))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		stamp, rest, ok := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		if !ok || !strings.Contains(rest, msg) {
			continue
		}
		if at, err := time.Parse(time.RFC3339Nano, stamp); err == nil && at.After(t) {
			return at.Sub(t)
		}
	}
	return 0
}

// restartProc starts a stopped node again on its data dir and ports,
// with args (its command line without the program); a joiner's restart
// uses the certificate its join stored.
func restartProc(n *procNode, args []string) error {
	logf, err := os.OpenFile(filepath.Join(n.dir, "node.log"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(n.cmd.Path, args...)
	cmd.Stdout, cmd.Stderr, cmd.Dir = logf, logf, n.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("restart %s: %w", n.name, err)
	}
	n.cmd = cmd
	return nil
}

// waitFires waits until the schedule has queued at least want jobs and
// returns them oldest fire first.
func waitFires(ctx context.Context, cl *client.Client, scheduleID string, want int, limit time.Duration) ([]api.Job, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		jobs, err := scheduleJobs(ctx, cl, scheduleID, time.Time{})
		if err == nil && len(jobs) >= want {
			return jobs, nil
		}
		time.Sleep(time.Second)
	}
	return nil, fmt.Errorf("schedule %s did not queue %d jobs within %v", scheduleID, want, limit)
}

// firstFireAfter waits for the first job of the schedule created after
// t and returns its created_at.
func firstFireAfter(ctx context.Context, cl *client.Client, scheduleID string, t time.Time, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		// Until a new leader is known the node answers an error: retry.
		if jobs, err := scheduleJobs(ctx, cl, scheduleID, t); err == nil && len(jobs) > 0 {
			return slices.MinFunc(jobs, func(a, b api.Job) int { return a.CreatedAt.Compare(b.CreatedAt) }).CreatedAt, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("no fire of schedule %s queued within %v of the leader kill", scheduleID, limit)
}

// scheduleJobs lists the schedule's jobs created after after (all when
// zero), oldest fire first, page by page.
func scheduleJobs(ctx context.Context, cl *client.Client, scheduleID string, after time.Time) ([]api.Job, error) {
	q := client.JobQuery{ScheduleID: scheduleID, CreatedAfter: after, Limit: 500}
	var out []api.Job
	for range 100 { // bounded: 50,000 jobs is far more than any run makes
		page, err := cl.Jobs(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Jobs...)
		if page.NextCursor == nil {
			break
		}
		q.Cursor = *page.NextCursor
	}
	slices.SortFunc(out, func(a, b api.Job) int { return a.FireTime.Compare(b.FireTime) })
	return out, nil
}
