package api

import (
	"cmp"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/casare/casare/consensus"
)

// eventMetrics counts the event stream's clients and the clients it
// dropped for falling behind or stalling.
type eventMetrics struct {
	clients prometheus.Gauge
	drops   prometheus.Counter
}

func newEventMetrics(reg prometheus.Registerer) *eventMetrics {
	m := &eventMetrics{
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "casare_event_stream_clients",
			Help: "Clients connected to this node's event stream (WebSocket and server-sent events).",
		}),
		drops: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "casare_event_stream_drops_total",
			Help: "Event stream clients this node dropped because they fell behind or their connection stalled.",
		}),
	}
	reg.MustRegister(m.clients, m.drops)
	return m
}

// jobMetrics observes this replica's applies: finished jobs by workflow
// and outcome, run durations and claim latencies. They are counted as
// entries are applied, never by walking the jobs, so a scrape costs the
// same with a million jobs as with ten. A node counts what it applied
// since it started (a restart replays its log from the last snapshot).
type jobMetrics struct {
	finished   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	claimDelay prometheus.Histogram
}

func newJobMetrics(reg prometheus.Registerer) *jobMetrics {
	m := &jobMetrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casare_jobs_finished_total",
			Help: "Jobs that reached a final state on this replica, by workflow and outcome (succeeded, failed, cancelled, dead).",
		}, []string{"workflow", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "casare_job_duration_seconds",
			Help: "Time from a finished job's last attempt starting to the job finishing, by outcome (leader's clock).",
			// RPA runs take from a fraction of a second to an hour.
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}, []string{"outcome"}),
		claimDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "casare_job_claim_latency_seconds",
			Help: "Time from a job becoming claimable (queued, or its not_before or retry time) to a robot claiming it (leader's clock).",
			// An idle fleet claims within milliseconds; a saturated one in
			// minutes.
			Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
	reg.MustRegister(m.finished, m.duration, m.claimDelay)
	return m
}

var _ consensus.Observer = (*jobMetrics)(nil)

// Applied counts the job changes of one entry; it never blocks.
// An entry finishes its jobs in runs of one workflow and outcome (a
// robot's completions of one workflow's jobs): each run is one lookup of
// its labels, not one a job.
func (m *jobMetrics) Applied(a consensus.Applied) {
	var run finishedRun
	var durations prometheus.Observer
	var durationsOf consensus.JobState
	for _, c := range a.Changes {
		if c.Kind != consensus.ChangeJob {
			continue
		}
		switch {
		case c.To == consensus.JobRunning && !c.EligibleAt.IsZero():
			m.claimDelay.Observe(max(0, c.Time.Sub(c.EligibleAt).Seconds()))
		case c.To.Terminal():
			if wf := cmp.Or(c.WorkflowName, c.WorkflowID); wf != run.workflow || c.To != run.outcome {
				run.add(m.finished)
				run = finishedRun{workflow: wf, outcome: c.To}
			}
			run.n++
			if !c.StartedAt.IsZero() && !c.FinishedAt.IsZero() {
				if durations == nil || durationsOf != c.To {
					durations, durationsOf = m.duration.WithLabelValues(string(c.To)), c.To
				}
				durations.Observe(max(0, c.FinishedAt.Sub(c.StartedAt).Seconds()))
			}
		}
	}
	run.add(m.finished)
}

// finishedRun is n jobs of one workflow finishing with one outcome.
type finishedRun struct {
	workflow string
	outcome  consensus.JobState
	n        int
}

func (r finishedRun) add(finished *prometheus.CounterVec) {
	if r.n > 0 {
		finished.WithLabelValues(r.workflow, string(r.outcome)).Add(float64(r.n))
	}
}

// Restored changes nothing: counters count what this node applied.
func (m *jobMetrics) Restored(uint64, consensus.JobCounts) {}

// fleetCollector reports robots by state and kind at scrape time, from
// the same view as GET /api/v1/robots (gossip, tunnels and heartbeats).
type fleetCollector struct{ fleet func() []Robot }

var robotsDesc = prometheus.NewDesc("casare_robots",
	"Robots by state (alive, suspect, dead, left, disconnected) and kind (lan, internet), as this node sees them.",
	[]string{"state", "kind"}, nil)

func (fleetCollector) Describe(ch chan<- *prometheus.Desc) { ch <- robotsDesc }

func (f fleetCollector) Collect(ch chan<- prometheus.Metric) {
	type key struct{ state, kind string }
	counts := map[key]int{}
	for _, st := range []string{RobotAlive, RobotSuspect, RobotDead, RobotLeft, RobotDisconnected} {
		for _, kind := range []string{RobotKindLAN, RobotKindInternet} {
			counts[key{st, kind}] = 0 // every series exists, so rates and alerts see zeros
		}
	}
	for _, r := range f.fleet() {
		counts[key{r.State, r.Kind}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(robotsDesc, prometheus.GaugeValue, float64(n), k.state, k.kind)
	}
}
