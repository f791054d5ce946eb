package node

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/testutil"
)

const noopWorkflow = `{"name":"noop","nodes":[{"id":"start","type":"start"},{"id":"end","type":"end"}],
 "connections":[{"from":"start","to":"end"}]}`

// BenchmarkDispatch measures, in one run, how fast one node dispatches
// no-op jobs to 50 internet robots over QUIC and to LAN robots with the
// same number of slots (a burst of b.N jobs submitted in batches), and
// the push latency of each at moderate load (jobs submitted one at a
// time, 20 ms apart): from the job's commit (its created_at) to the claim
// that hands it to a robot (its started_at), both stamped by the leader.
func BenchmarkDispatch(b *testing.B) {
	const robots, perRobot = 50, 2
	for _, kind := range []string{"lan", "internet"} {
		b.Run(kind, func(b *testing.B) {
			cfg := testConfig(b, "hub", "")
			cfg.Robot = kind == "lan"
			cfg.Capacity = robots * perRobot
			n := startNode(b, cfg)
			if kind == "internet" {
				token := newTokenTB(b, n)
				// The robots' goroutines, QUIC's included, carry the label
				// side=robot, so a profile tells their CPU from the node's
				// (go tool pprof -tagfocus side=robot).
				pprof.Do(context.Background(), pprof.Labels("side", "robot"), func(context.Context) {
					for i := range robots {
						startInternetRobot(b, []string{quicAddr(n)}, token, fmt.Sprintf("pc-%02d", i), perRobot)
					}
				})
			}
			c := adminClient(b, n, n)
			ctx := context.Background()
			wf, err := c.CreateWorkflow(ctx, api.CreateWorkflowRequest{
				WorkflowName: "noop", WorkflowJSON: json.RawMessage(noopWorkflow), TriggerType: "none",
			})
			if err != nil {
				b.Fatal(err)
			}
			total := max(b.N, 200)
			reqs := make([]api.JobRequest, 0, 500)
			firstIndex, firstCounts := n.Store().AppliedIndex(), n.Store().AppliedEntries()
			start, cpu := time.Now(), testutil.ProcessCPU(b) // the robots' and the node's, as both run here
			var ids []string
			for len(ids) < total {
				reqs = reqs[:0]
				for range min(500, total-len(ids)) {
					reqs = append(reqs, api.JobRequest{WorkflowID: wf.WorkflowID, ExecutionMode: kind})
				}
				jobs, err := c.SubmitJobs(ctx, reqs)
				if err != nil {
					b.Fatal(err)
				}
				for _, j := range jobs {
					ids = append(ids, j.ID)
				}
			}
			waitAllSucceeded(b, n.Store(), total)
			elapsed, cpu := time.Since(start), testutil.ProcessCPU(b)-cpu
			entries, counts := n.Store().AppliedIndex()-firstIndex, n.Store().AppliedEntries()
			lat := pushLatencies(b, c, n.Store(), wf.WorkflowID, kind, 100)
			b.ReportMetric(float64(total)/elapsed.Seconds(), "jobs/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-push-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-push-ms")
			b.ReportMetric(float64(robots*perRobot), "slots")
			b.ReportMetric(float64(entries)/float64(total), "entries/job")
			b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/job")
			b.ReportMetric(float64(counts["claim_groups"]-firstCounts["claim_groups"])/float64(total), "claim-entries/job")
			b.ReportMetric(float64(counts["robot_reports"]-firstCounts["robot_reports"])/float64(total), "report-entries/job")
			b.ReportMetric(float64(counts["robot_work"]-firstCounts["robot_work"])/float64(total), "work-entries/job")
		})
	}
}

func waitAllSucceeded(b *testing.B, s *consensus.Store, total int) {
	b.Helper()
	testutil.WaitFor(b, 5*time.Minute, fmt.Sprintf("all %d jobs to succeed", total), func() bool {
		counts, _ := s.JobCounts()
		return counts[consensus.JobSucceeded] >= total
	})
}

// pushLatencies submits jobs one at a time and returns, sorted, how long
// each waited between its commit and its claim.
func pushLatencies(b *testing.B, c *client.Client, s *consensus.Store, workflowID, mode string, n int) []time.Duration {
	b.Helper()
	ctx := context.Background()
	var ids []string
	for range n {
		j, err := c.SubmitJob(ctx, api.JobRequest{WorkflowID: workflowID, ExecutionMode: mode})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, j.ID)
		time.Sleep(20 * time.Millisecond)
	}
	var lat []time.Duration
	for _, id := range ids {
		for range 500 {
			j, _, _ := s.Job(id)
			if !j.StartedAt.IsZero() {
				lat = append(lat, j.StartedAt.Sub(j.CreatedAt))
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(lat) != n {
		b.Fatalf("%d of %d jobs never started", n-len(lat), n)
	}
	slices.Sort(lat)
	return lat
}
