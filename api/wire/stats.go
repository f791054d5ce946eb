package wire

import "time"

// Throughput is the answer of GET /api/v1/stats/throughput: what the
// cluster's applied entries did in each interval of the window, oldest
// first, ending with the interval that holds Now. Rates are per second
// over the interval; claim latencies are null for an interval in which
// no job was claimed.
type Throughput struct {
	Node            string               `json:"node"`
	Now             time.Time            `json:"now"`
	WindowSeconds   int                  `json:"window_seconds"`
	IntervalSeconds int                  `json:"interval_seconds"`
	Points          []ThroughputInterval `json:"points"`
}

// ThroughputInterval is one interval of a Throughput series.
type ThroughputInterval struct {
	Start     time.Time `json:"start"`
	Submitted float64   `json:"submitted"` // new jobs per second
	Claimed   float64   `json:"claimed"`   // claims (a job starting to run) per second
	Succeeded float64   `json:"succeeded"` // jobs finishing succeeded, per second
	// Failed counts jobs finishing failed or dead-lettered, per second.
	Failed    float64  `json:"failed"`
	Cancelled float64  `json:"cancelled"`
	ClaimP50  *float64 `json:"claim_latency_p50_seconds"`
	ClaimP95  *float64 `json:"claim_latency_p95_seconds"`
}
