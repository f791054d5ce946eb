package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/casare/casare/api/wire"
)

// metrics holds one server's Prometheus registry. It is never the
// default registry, so that servers in one process do not collide.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(store Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "casare_http_requests_total",
			Help: "HTTP requests served, by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "casare_http_request_duration_seconds",
			Help:    "Time to serve an HTTP request, by method and route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	m.registry.MustRegister(
		m.requests, m.latency,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	if store != nil {
		m.registry.MustRegister(&storeCollector{store: store})
		m.registry.MustRegister(store.Collectors()...)
	}
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

func (m *metrics) observeRequest(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// storeCollector reads Raft and queue figures from the store at scrape
// time, so they are never stale and cost nothing between scrapes.
type storeCollector struct{ store Store }

var (
	raftStateDesc = prometheus.NewDesc("casare_raft_state",
		"1 for the Raft state this node is in (Leader, Follower, Candidate, Shutdown).", []string{"state"}, nil)
	raftTermDesc = prometheus.NewDesc("casare_raft_term",
		"Current Raft term.", nil, nil)
	raftCommitDesc = prometheus.NewDesc("casare_raft_commit_index",
		"Highest Raft index known to be committed.", nil, nil)
	raftLastLogDesc = prometheus.NewDesc("casare_raft_last_log_index",
		"Highest Raft index in this node's log.", nil, nil)
	raftAppliedDesc = prometheus.NewDesc("casare_raft_applied_index",
		"Highest Raft index applied to this node's state machine.", nil, nil)
	raftEntriesDesc = prometheus.NewDesc("casare_raft_applied_entries_total",
		"Command entries this node's state machine applied since it started, by command: what each kind of write costs the log.", []string{"command"}, nil)
	jobsDesc = prometheus.NewDesc("casare_jobs",
		"Jobs in the replicated queue, by state.", []string{"state"}, nil)
	oldestQueuedDesc = prometheus.NewDesc("casare_queue_oldest_queued_seconds",
		"Age of the oldest queued job; 0 when none is queued.", nil, nil)
	finishedLastMinuteDesc = prometheus.NewDesc("casare_queue_finished_last_minute",
		"Jobs that finished in the last minute, in any final state.", nil, nil)
	queuePausedDesc = prometheus.NewDesc("casare_queue_paused",
		"1 while the whole queue is paused.", nil, nil)
	pausedWorkflowsDesc = prometheus.NewDesc("casare_queue_paused_workflows",
		"Workflows whose queued jobs are paused.", nil, nil)
	schedulesDesc = prometheus.NewDesc("casare_schedules",
		"Cron schedules, by whether they are enabled.", []string{"enabled"}, nil)
)

var raftStates = []string{"Leader", "Follower", "Candidate", "Shutdown"}

func (sc *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		raftStateDesc, raftTermDesc, raftCommitDesc, raftLastLogDesc, raftAppliedDesc, raftEntriesDesc, jobsDesc,
		oldestQueuedDesc, finishedLastMinuteDesc, queuePausedDesc, pausedWorkflowsDesc, schedulesDesc,
	} {
		ch <- d
	}
}

func (sc *storeCollector) Collect(ch chan<- prometheus.Metric) {
	current := sc.store.RaftState()
	for _, st := range raftStates {
		v := 0.0
		if st == current {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(raftStateDesc, prometheus.GaugeValue, v, st)
	}
	stats := sc.store.Stats()
	ch <- prometheus.MustNewConstMetric(raftTermDesc, prometheus.GaugeValue, statFloat(stats, "term"))
	ch <- prometheus.MustNewConstMetric(raftCommitDesc, prometheus.GaugeValue, statFloat(stats, "commit_index"))
	ch <- prometheus.MustNewConstMetric(raftLastLogDesc, prometheus.GaugeValue, statFloat(stats, "last_log_index"))
	ch <- prometheus.MustNewConstMetric(raftAppliedDesc, prometheus.GaugeValue, float64(sc.store.AppliedIndex()))
	for command, n := range sc.store.AppliedEntries() {
		ch <- prometheus.MustNewConstMetric(raftEntriesDesc, prometheus.CounterValue, float64(n), command)
	}
	sc.collectQueue(ch)
	sc.collectSchedules(ch)
}

// collectQueue reports the queue from one pass over its jobs.
func (sc *storeCollector) collectQueue(ch chan<- prometheus.Metric) {
	now := time.Now()
	q := queueStatsView(sc.store.QueueStats(now), now)
	for _, st := range wire.JobStates() {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(q.ByState[st]), st)
	}
	ch <- prometheus.MustNewConstMetric(oldestQueuedDesc, prometheus.GaugeValue, q.OldestQueuedAgeSeconds)
	ch <- prometheus.MustNewConstMetric(finishedLastMinuteDesc, prometheus.GaugeValue, float64(q.FinishedLastMinute))
	ch <- prometheus.MustNewConstMetric(queuePausedDesc, prometheus.GaugeValue, boolFloat(q.Paused))
	ch <- prometheus.MustNewConstMetric(pausedWorkflowsDesc, prometheus.GaugeValue, float64(len(q.PausedWorkflows)))
}

func (sc *storeCollector) collectSchedules(ch chan<- prometheus.Metric) {
	schedules, _ := sc.store.Schedules("")
	enabled := 0
	for _, s := range schedules {
		if s.Enabled {
			enabled++
		}
	}
	ch <- prometheus.MustNewConstMetric(schedulesDesc, prometheus.GaugeValue, float64(enabled), "true")
	ch <- prometheus.MustNewConstMetric(schedulesDesc, prometheus.GaugeValue, float64(len(schedules)-enabled), "false")
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// statFloat reads one of Raft's numeric stats; a missing or odd value
// reads as zero rather than failing the scrape.
func statFloat(stats map[string]string, key string) float64 {
	v, _ := strconv.ParseUint(stats[key], 10, 64)
	return float64(v)
}
