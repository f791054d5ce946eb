package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/casare/casare/consensus"
)

// Raft keeps the newest consensus.MaxJobLogLines lines of each job's log,
// and offsets index those kept lines. The full log lives in the archive
// when one is set.

const (
	maxLogPage = 1000
	// followKeepAlive is how often an idle stream sends a comment, so
	// that proxies keep it open and a vanished client is noticed.
	followKeepAlive = 15 * time.Second
	// followMinInterval bounds how often a follower re-reads its job:
	// every apply in the cluster wakes it, and a busy cluster applies
	// thousands of entries a second.
	followMinInterval = 50 * time.Millisecond
)

type logQuery struct {
	offset, limit int
	follow        bool
}

func readLogQuery(c *gin.Context) (logQuery, error) {
	q := logQuery{limit: consensus.MaxJobLogLines}
	if raw, ok := c.GetQuery("offset"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 {
			return q, invalidField("offset", "must be an integer of 0 or more, not %q", raw)
		}
		q.offset = n
	}
	if raw, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLogPage {
			return q, invalidField("limit", "must be an integer from 1 to %d, not %q", maxLogPage, raw)
		}
		q.limit = n
	}
	if raw, ok := c.GetQuery("follow"); ok {
		follow, err := strconv.ParseBool(raw)
		if err != nil {
			return q, invalidField("follow", "must be true or false, not %q", raw)
		}
		q.follow = follow
	}
	return q, nil
}

func (s jobsAPI) jobLogs(c *gin.Context) {
	q, err := readLogQuery(c)
	if err != nil {
		s.abort(c, err)
		return
	}
	id := c.Param("id")
	if !q.follow && s.archivedLogs(c, id, q) {
		return
	}
	job, index, found := lookup(s.Server, c, "job "+id, func() (consensus.Job, bool, uint64) { return s.cfg.Store.Job(id) })
	if !found {
		return
	}
	if q.follow {
		release, ok := s.takeFollowerSlot(c)
		if !ok {
			return
		}
		defer release()
		s.followJobLogs(c, id, q.offset)
		return
	}
	logs := job.Run().Logs
	start := min(q.offset, len(logs))
	end := min(start+q.limit, len(logs))
	lines := logLines(logs[start:end])
	if lines == nil {
		lines = []LogLine{}
	}
	c.JSON(http.StatusOK, JobLogs{
		JobID: id, Lines: lines, NextOffset: end, Finished: job.State.Terminal(), AppliedIndex: index,
	})
}

// followJobLogs streams the job's new log lines as Server-Sent Events
// ("line" events) until the job finishes (one "end" event) or the
// client goes away. It wakes on applied Raft entries, not on a timer.
func (s jobsAPI) followJobLogs(c *gin.Context, id string, offset int) {
	ctx := c.Request.Context()
	stream := sseStream{w: c.Writer}
	stream.start()
	keepAlive := time.NewTicker(followKeepAlive)
	defer keepAlive.Stop()
	cursor := logCursor{sent: offset}
	for {
		_, changed := s.cfg.Store.AppliedChanged()
		job, found, _ := s.cfg.Store.Job(id)
		if !found {
			stream.event("end", JobLogsEnd{JobID: id, Error: "the job is no longer kept in the cluster state"})
			return
		}
		run := job.Run()
		for _, l := range cursor.next(run.Logs) {
			stream.event("line", logLine(l))
		}
		if job.State.Terminal() {
			stream.event("end", JobLogsEnd{JobID: id, State: string(job.State), Error: run.Error})
			return
		}
		if !stream.flush() || !waitApplied(ctx, changed, keepAlive.C, &stream) {
			return
		}
	}
}

// waitApplied waits for the next applied entry, at most once per
// followMinInterval, sending keep-alives meanwhile. It returns false when
// the client is gone.
func waitApplied(ctx context.Context, changed <-chan struct{}, keepAlive <-chan time.Time, stream *sseStream) bool {
	throttle := time.NewTimer(followMinInterval)
	defer throttle.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-keepAlive:
			stream.comment("keep-alive")
			if !stream.flush() {
				return false
			}
		case <-changed:
			select {
			case <-ctx.Done():
				return false
			case <-throttle.C:
			}
			return true
		}
	}
}

// logCursor finds the lines of a job's kept log a follower has not sent
// yet. Raft keeps a sliding window of lines, so once the window is full
// positions shift; the cursor then looks for the last line it sent.
type logCursor struct {
	sent int // position in the window after the last line sent
	last *consensus.LogLine
}

func (lc *logCursor) next(window []consensus.LogLine) []consensus.LogLine {
	fresh := lc.unsent(window)
	if len(fresh) > 0 {
		lc.sent = len(window)
		last := fresh[len(fresh)-1]
		lc.last = &last
	}
	return fresh
}

func (lc *logCursor) unsent(window []consensus.LogLine) []consensus.LogLine {
	if lc.last == nil {
		return window[min(lc.sent, len(window)):]
	}
	if lc.sent >= 1 && lc.sent <= len(window) && sameLine(window[lc.sent-1], *lc.last) {
		return window[lc.sent:]
	}
	for i := len(window) - 1; i >= 0; i-- {
		if sameLine(window[i], *lc.last) {
			return window[i+1:]
		}
	}
	// Every kept line came after the last one sent; lines in between
	// that slid out of the window are only in the archive.
	return window
}

func sameLine(a, b consensus.LogLine) bool {
	return a.Time.Equal(b.Time) && a.Level == b.Level && a.NodeID == b.NodeID && a.Message == b.Message
}

// sseStream writes Server-Sent Events. After the first failed write it
// writes nothing more and flush reports false.
type sseStream struct {
	w   gin.ResponseWriter
	rc  *http.ResponseController
	err error
}

func (s *sseStream) start() {
	s.rc = openStream(s.w)
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	// Proxies such as nginx would otherwise hold events back.
	h.Set("X-Accel-Buffering", "no")
	s.w.WriteHeader(http.StatusOK)
	s.flush()
}

func (s *sseStream) event(name string, v any) {
	if s.err != nil {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		s.err = fmt.Errorf("encode %s event: %w", name, err)
		return
	}
	_, s.err = fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, data)
}

func (s *sseStream) comment(text string) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(s.w, ": %s\n\n", text)
	}
}

func (s *sseStream) flush() bool {
	if s.err == nil {
		s.w.Flush()
		extendStream(s.rc)
	}
	return s.err == nil
}

// archivedLogs serves the complete log of a finished job from the
// archive, and reports whether it did: a job the archive does not have
// (yet) is answered from Raft's newest lines.
func (s jobsAPI) archivedLogs(c *gin.Context, id string, q logQuery) bool {
	if s.cfg.Archive == nil {
		return false
	}
	job, inRaft, index := s.cfg.Store.Job(id)
	if inRaft && !job.State.Terminal() {
		return false
	}
	ctx, cancel := s.archiveCtx(c)
	defer cancel()
	if _, archived, err := s.cfg.Archive.Job(ctx, id); err != nil || !archived {
		return false
	}
	lines, total, err := s.cfg.Archive.Logs(ctx, id, q.offset, q.limit)
	if err != nil {
		s.log.Warn("archive log read failed; answering from raft", "job", id, "err", err)
		return false
	}
	setAppliedIndex(c, index)
	out := logLines(lines)
	if out == nil {
		out = []LogLine{}
	}
	c.JSON(http.StatusOK, JobLogs{
		JobID: id, Lines: out, NextOffset: min(q.offset+len(lines), max(total, q.offset)), Finished: true, AppliedIndex: index,
	})
	return true
}
