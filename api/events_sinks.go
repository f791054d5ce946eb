package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/gin-gonic/gin"
)

// serveWebSocket streams frames as WebSocket text messages. The
// library's default origin check applies: a page may open the stream
// only from the node's own origin.
func (s eventsAPI) serveWebSocket(c *gin.Context, since *uint64) {
	// net/http clears the server's deadlines when Accept hijacks the
	// connection; every write below has its own timeout instead.
	conn, err := websocket.Accept(c.Writer, c.Request, nil)
	if err != nil {
		return // Accept has answered the request
	}
	defer conn.CloseNow()
	// The client sends nothing; CloseRead answers its pings and close
	// and cancels ctx when it goes away.
	ctx := conn.CloseRead(c.Request.Context())
	s.pump(ctx, wsSink{conn}, since)
}

type wsSink struct{ conn *websocket.Conn }

func (w wsSink) send(ctx context.Context, f EventFrame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode event frame: %w", err)
	}
	return w.conn.Write(ctx, websocket.MessageText, data)
}

func (w wsSink) end(ctx context.Context, f EventFrame) {
	if w.send(ctx, f) != nil {
		return
	}
	// 1013 "try again later" for a drop, a normal close for a reload; the
	// reason (at most 123 bytes) repeats the frame's type and index.
	code := websocket.StatusNormalClosure
	if f.Type == FrameDropped {
		code = websocket.StatusTryAgainLater
	}
	_ = w.conn.Close(code, f.Type+" since="+strconv.FormatUint(f.Resume, 10))
}

// serveSSE streams frames as server-sent events: the event name is the
// frame type and the id its resume index, so a browser's EventSource
// resumes by itself (Last-Event-ID).
func (s eventsAPI) serveSSE(c *gin.Context, since *uint64) {
	w := c.Writer
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // ask proxies not to buffer the stream
	rc := openStream(w)              // every write below sets its own deadline
	w.WriteHeader(http.StatusOK)
	w.Flush()
	ctx, cancel := context.WithCancel(c.Request.Context())
	sink := &sseSink{w: w, rc: rc}
	var wg sync.WaitGroup
	wg.Go(func() { sink.keepAlive(ctx) })
	s.pump(ctx, sink, since)
	cancel()
	wg.Wait() // nothing may write after the handler returns
}

type sseSink struct {
	mu sync.Mutex // one writer at a time: frames and keep-alives
	w  gin.ResponseWriter
	rc *http.ResponseController
}

func (s *sseSink) send(ctx context.Context, f EventFrame) error {
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("encode event frame: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if deadline, ok := ctx.Deadline(); ok {
		_ = s.rc.SetWriteDeadline(deadline)
	}
	if _, err := fmt.Fprintf(s.w, "id: %d\nevent: %s\ndata: %s\n\n", f.Resume, f.Type, data); err != nil {
		return fmt.Errorf("write event frame: %w", err)
	}
	return s.rc.Flush()
}

func (s *sseSink) end(ctx context.Context, f EventFrame) { _ = s.send(ctx, f) }

// keepAlive writes a comment line to an idle stream every sseKeepAlive.
func (s *sseSink) keepAlive(ctx context.Context) {
	t := time.NewTicker(sseKeepAlive)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
		s.mu.Lock()
		_ = s.rc.SetWriteDeadline(time.Now().Add(DefaultEventWriteTimeout))
		_, err := s.w.WriteString(": keep-alive\n\n")
		if err == nil {
			err = s.rc.Flush()
		}
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}
