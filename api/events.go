package api

import (
	"cmp"
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/casare/casare/consensus"
)

// GET /api/v1/events streams state changes over a WebSocket, or as
// server-sent events when the client sends Accept: text/event-stream.
// A stream opens with a hello frame (leader, robots, queue counts), then
// sends a frame of events at most every 100 ms. ?since=INDEX (or SSE's
// Last-Event-ID) resumes after INDEX; an index older than the node holds
// gets a reload frame, and a client that falls behind a dropped frame
// with the index to resume from. Either ends the stream.

// DefaultEventWriteTimeout bounds one frame's write (Config.
// EventWriteTimeout): a client whose connection takes longer is stalled,
// and holding its goroutine longer helps no one. It resumes from the
// last frame it read.
const DefaultEventWriteTimeout = 10 * time.Second

// sseKeepAlive is how often an idle server-sent event stream gets a
// comment line, so that proxies do not close it as idle.
const sseKeepAlive = 15 * time.Second

// eventSource is what feeds the stream; *consensus.Store offers it.
type eventSource interface {
	Observe(o consensus.Observer) uint64
	StateCounts() (consensus.JobCounts, uint64)
}

// frameSink writes frames to one client.
type frameSink interface {
	send(ctx context.Context, f EventFrame) error
	// end sends a last frame and closes the stream.
	end(ctx context.Context, f EventFrame)
}

func (s eventsAPI) streamEvents(c *gin.Context) {
	if s.events == nil {
		s.abort(c, newError(CodeUnavailable, "this node serves no event stream"))
		return
	}
	since, err := parseSince(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	switch {
	case strings.EqualFold(c.GetHeader("Upgrade"), "websocket"):
		s.serveWebSocket(c, since)
	case strings.Contains(c.GetHeader("Accept"), "text/event-stream"):
		s.serveSSE(c, since)
	default:
		s.abort(c, newError(consensus.CodeInvalid,
			"GET /api/v1/events is a WebSocket (send Upgrade: websocket) or a server-sent event stream (send Accept: text/event-stream)"))
	}
}

// parseSince reads ?since= or, for a reconnecting EventSource, the
// Last-Event-ID header (the resume index of the last frame it got).
func parseSince(c *gin.Context) (*uint64, error) {
	raw, field := c.Query("since"), "since"
	if raw == "" {
		raw, field = c.GetHeader("Last-Event-ID"), "Last-Event-ID"
	}
	if raw == "" {
		return nil, nil
	}
	v, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return nil, invalidField(field, "must be a Raft index (a whole number), not %q", raw)
	}
	return &v, nil
}

// pump sends a client its frames until it goes away, falls behind or
// must reload.
func (s eventsAPI) pump(ctx context.Context, sink frameSink, since *uint64) {
	s.events.clients(1)
	defer s.events.clients(-1)
	s.watcher.join()
	defer s.watcher.leave()
	sink = timedSink{sink, cmp.Or(s.cfg.EventWriteTimeout, DefaultEventWriteTimeout)}

	cur, resume, counts, err := s.events.hub.subscribe(since)
	if err != nil {
		sink.end(ctx, EventFrame{Type: FrameReload, Resume: resume, Message: err.Error()})
		return
	}
	leader, term := s.leaderTerm()
	hello := EventFrame{
		Type: FrameHello, Resume: resume, Node: s.cfg.NodeName, Leader: leader, Term: term,
		Robots: s.fleet(), Queue: &counts,
	}
	if sink.send(ctx, hello) != nil {
		return
	}
	sent := counts
	for {
		b, err := s.events.hub.read(&cur, maxFrameEvents)
		switch {
		case errors.Is(err, errReload):
			sink.end(ctx, EventFrame{Type: FrameReload, Resume: b.resume, Message: err.Error()})
			return
		case errors.Is(err, errDropped):
			s.events.dropped()
			s.log.Info("event stream client dropped", "resume", b.resume, "reason", err)
			sink.end(ctx, EventFrame{Type: FrameDropped, Resume: b.resume,
				Message: err.Error() + "; reconnect with since=" + strconv.FormatUint(b.resume, 10)})
			return
		}
		if len(b.events) == 0 && b.counts == sent {
			select {
			case <-b.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		f := EventFrame{Type: FrameEvents, Resume: b.resume, Events: coalesce(b.events)}
		if b.counts != sent {
			q := b.counts
			f.Queue, sent = &q, q
		}
		if err := sink.send(ctx, f); err != nil {
			if ctx.Err() == nil {
				s.events.dropped() // a stalled connection
			}
			return
		}
		if !b.more && sleepCtx(ctx, frameWindow) != nil {
			return
		}
	}
}

// coalesce merges the progress events of one job into its last one, so
// that a fast workflow's node updates cost one event per frame. Job state
// changes, fires and robot changes are kept, each in order.
func coalesce(evs []Event) []Event {
	last := map[string]int{} // job id → position of its last progress event
	for i, e := range evs {
		if e.Type == EventProgress {
			last[e.JobID] = i
		}
	}
	if len(last) == 0 {
		return evs
	}
	merged := map[string]map[string]string{}
	out := evs[:0:0]
	for i, e := range evs {
		if e.Type != EventProgress {
			out = append(out, e)
			continue
		}
		m := merged[e.JobID]
		if m == nil {
			m = map[string]string{}
			merged[e.JobID] = m
		}
		for k, v := range e.NodeStatus {
			m[k] = v
		}
		if last[e.JobID] == i {
			e.NodeStatus = m
			out = append(out, e)
		}
	}
	return out
}

// leaderTerm returns the leader's name and the current term as this node
// knows them.
func (s eventsAPI) leaderTerm() (string, uint64) {
	term, _ := strconv.ParseUint(s.cfg.Store.Stats()["term"], 10, 64)
	return s.cfg.Store.LeaderName(), term
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// eventFeed is one server's hub and its client figures.
type eventFeed struct {
	hub        *hub
	metrics    *eventMetrics
	throughput *throughput
}

func (f *eventFeed) clients(delta int) { f.metrics.clients.Add(float64(delta)) }
func (f *eventFeed) dropped()          { f.metrics.drops.Inc() }

// newEventFeed starts observing the store's applies, when it can be
// observed (a store without a replica cannot).
func newEventFeed(store Store, size int, reg prometheus.Registerer) *eventFeed {
	src, ok := store.(eventSource)
	if !ok {
		return nil
	}
	m := newEventMetrics(reg)
	src.Observe(newJobMetrics(reg))
	tp := &throughput{}
	src.Observe(tp)
	h := newHub(size, m)
	index := src.Observe(h)
	counts, _ := src.StateCounts()
	h.start(index, counts)
	return &eventFeed{hub: h, metrics: m, throughput: tp}
}

// timedSink bounds every write of a sink.
type timedSink struct {
	frameSink
	timeout time.Duration
}

func (t timedSink) send(ctx context.Context, f EventFrame) error {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.frameSink.send(ctx, f)
}

func (t timedSink) end(ctx context.Context, f EventFrame) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	t.frameSink.end(ctx, f)
}
