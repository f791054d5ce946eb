package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// Timeouts bound how long one connection may hold a node's API server.
// Without them a client that sends its body one byte at a time keeps a
// connection (and its goroutine) for as long as it likes.
type Timeouts struct {
	// ReadHeader bounds reading a request's headers.
	ReadHeader time.Duration
	// Read bounds reading a whole request, body included. Streams lift it
	// for themselves (see openStream).
	Read time.Duration
	// Write bounds a request from the end of its headers to the end of
	// its answer: it must exceed the longest answer a handler gives, the
	// robot long poll (maxRobotWait). Streams extend it as they go.
	Write time.Duration
	// Idle bounds a kept-alive connection between requests.
	Idle time.Duration
}

// DefaultTimeouts are the API server's timeouts.
//   - ReadHeader 10 s and Read 30 s: an 8 MiB upload needs only about
//     300 KB/s to arrive in time, a slow-body client is dropped within 30 s.
//   - Write 60 s: twice the robot long poll, so a poll that ends on time
//     is answered even on a busy node.
//   - Idle 2 min: long enough for a CLI or robot to reuse its connection.
func DefaultTimeouts() Timeouts {
	return Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: 2 * maxRobotWait, Idle: 2 * time.Minute}
}

// withDefaults fills the zero fields of t from DefaultTimeouts.
func (t Timeouts) withDefaults() Timeouts {
	d := DefaultTimeouts()
	if t.ReadHeader <= 0 {
		t.ReadHeader = d.ReadHeader
	}
	if t.Read <= 0 {
		t.Read = d.Read
	}
	if t.Write <= 0 {
		t.Write = d.Write
	}
	if t.Idle <= 0 {
		t.Idle = d.Idle
	}
	return t
}

// NewHTTPServer returns the http.Server every listener that takes API
// requests uses, with t's timeouts (zero fields take the defaults).
func NewHTTPServer(h http.Handler, t Timeouts) *http.Server {
	t = t.withDefaults()
	return &http.Server{
		Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle,
	}
}

// streamWriteWindow is how long a stream's next write may take: the
// keep-alive interval (nothing is written for that long when nothing
// happens) plus a margin for a slow client. A client that reads nothing
// for longer is dropped.
const streamWriteWindow = followKeepAlive + 15*time.Second

// openStream lifts the server's read deadline for a long-lived response
// (a stream reads nothing more from its client, and an expired read
// deadline would end it) and sets its first write deadline. Handlers call
// extendStream after every flush. On a writer that has no deadlines
// (a test recorder) both do nothing.
func openStream(w http.ResponseWriter) *http.ResponseController {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	extendStream(rc)
	return rc
}

func extendStream(rc *http.ResponseController) {
	_ = rc.SetWriteDeadline(time.Now().Add(streamWriteWindow))
}

// followerRetryAfter is the Retry-After of a refused log stream, in
// seconds: streams end when their job does, which is often soon.
const followerRetryAfter = "5"

// takeFollowerSlot reserves one of the node's log stream slots, or
// answers 503 too_many_streams and returns false when all are taken.
func (s jobsAPI) takeFollowerSlot(c *gin.Context) (release func(), ok bool) {
	select {
	case s.followers <- struct{}{}:
		return func() { <-s.followers }, true
	default:
		c.Header("Retry-After", followerRetryAfter)
		s.abort(c, newError(CodeTooManyStreams,
			"this node already serves %d log streams, its limit; retry later, read the log without follow, or follow it through another node",
			cap(s.followers)))
		return nil, false
	}
}
