package consensus

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/google/btree"
	"github.com/hashicorp/raft"
)

// Snapshots are written from an immutable view of the state, so applies
// go on while one is written out. Encoding a million queued jobs takes
// seconds; under the FSM's lock, every write waited for it.
//
// Taking a view (capture) holds the lock for O(small): it clones the job
// tree bySeq, which google/btree does lazily (the two trees share nodes
// and each copies a node before it changes one), copies the workflows
// (versions are append-only and never changed in place), encodes the
// other small parts of the state, and starts a new generation. Jobs are
// pointers that apply handlers change in place, so a job older than the
// generation is shared with the view: state.mutableJob puts a copy in
// its place, in every index, before the first change. Every handler that
// changes a job takes it through mutableJob first. Once no view is
// being written, jobs change in place again.

// mutableJob returns j ready to change: j itself, or, while a view that
// may hold j is being written, a copy of j that replaces it in the jobs
// map and every index. The copy is deep where handlers write in place
// (attempts, lease, debug session); the rest they replace whole.
func (s *state) mutableJob(j *Job) *Job {
	if s.views == 0 || j.gen == s.gen {
		return j
	}
	c := cloneJob(j)
	n := &c
	n.gen = s.gen
	s.jobs[n.ID] = n
	s.bySeq.ReplaceOrInsert(n)
	switch {
	case n.State == JobQueued:
		s.queue.ReplaceOrInsert(n)
	case n.State == JobRunning:
		s.running[n.ID] = n
	case n.State.Terminal():
		s.finished.ReplaceOrInsert(n)
	}
	return n
}

// stateView is an immutable cut of the state at one applied index.
type stateView struct {
	head snapshotHead
	jobs *btree.BTreeG[*Job] // a copy-on-write clone of bySeq
	// tail is the rest of the state, encoded at capture: its maps are
	// few and small, and their values change in place.
	tail []byte

	once    sync.Once
	release func()
}

// capture takes a view of the state. The caller holds f.mu for writing:
// the clone and the new generation must not race a reader or an apply.
// The view must be closed when written out.
func (f *fsm) capture() (*stateView, error) {
	s := f.state
	tail, err := encodeJSON(s.snapshotTail())
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	wfs := s.sortedWorkflows()
	for i, wf := range wfs {
		c := cloneWorkflow(wf)
		wfs[i] = &c
	}
	s.gen++
	s.views++
	v := &stateView{
		head: snapshotHead{Version: snapshotVersion, Applied: f.applied, Workflows: wfs},
		jobs: s.bySeq.Clone(), tail: tail,
	}
	v.release = func() {
		f.mu.Lock()
		s.views-- // s, not f.state: a restore may have replaced it since
		f.mu.Unlock()
	}
	return v, nil
}

// close lets applies change jobs in place again once no other view is
// being written. Calling it twice is harmless.
func (v *stateView) close() { v.once.Do(v.release) }

// writeTo streams the view's encoding to w: byte for byte what
// encodeJSON makes of the whole snapshotData, one job at a time, so the
// encoding is never held in memory whole.
func (v *stateView) writeTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 256<<10)
	head, err := encodeJSON(v.head)
	if err != nil {
		return 0, fmt.Errorf("encode snapshot head: %w", err)
	}
	bw.Write(head[:len(head)-1]) // bufio keeps the first error for Flush
	bw.WriteString(`,"jobs":`)
	if v.jobs.Len() == 0 {
		bw.WriteString("null") // as a nil slice encodes
	} else if err := writeJobs(bw, v.jobs); err != nil {
		return cw.n, err
	}
	bw.WriteByte(',')
	bw.Write(v.tail[1:])
	if err := bw.Flush(); err != nil {
		return cw.n, err
	}
	return cw.n, nil
}

// writeJobs writes the jobs as a JSON array, encoded as encodeJSON does.
func writeJobs(bw *bufio.Writer, jobs *btree.BTreeG[*Job]) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	sep := byte('[')
	var err error
	jobs.Ascend(func(j *Job) bool {
		buf.Reset()
		if err = enc.Encode(j); err != nil {
			err = fmt.Errorf("encode job %s: %w", j.ID, err)
			return false
		}
		bw.WriteByte(sep)
		sep = ','
		_, err = bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		return err == nil
	})
	if err != nil {
		return err
	}
	return bw.WriteByte(']')
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Snapshot takes a view of the state; Raft calls it between applies and
// then writes the view out (Persist) while applies go on.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	start := time.Now()
	f.mu.Lock()
	v, err := f.capture()
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	// Applies wait for this part only: the log says for how long (the
	// memory bench reads it).
	f.log.Info("state captured for a snapshot", "index", v.head.Applied, "jobs", v.jobs.Len(), "took", time.Since(start))
	return &fsmSnapshot{view: v, log: f.log}, nil
}

type fsmSnapshot struct {
	view *stateView
	log  *slog.Logger
}

// Persist encodes the view into the sink; applies do not wait for it.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	start := time.Now()
	n, err := s.view.writeTo(sink)
	if err != nil {
		sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	s.log.Info("state encoded for a snapshot", "index", s.view.head.Applied, "jobs", s.view.jobs.Len(), "bytes", n, "took", time.Since(start))
	return sink.Close()
}

// Release ends the view; Raft calls it once the snapshot is written.
func (s *fsmSnapshot) Release() { s.view.close() }
