package api

import "github.com/prometheus/client_golang/prometheus"

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
