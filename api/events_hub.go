package api

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/casare/casare/consensus"
)

// The event hub keeps the newest events of this node in a bounded ring,
// fed by the FSM's apply on this replica (consensus.Observer) and by the
// fleet watcher. Apply must never wait for a client: publishing takes
// one short lock, appends, and wakes readers by closing a channel.
// Each client reads from its own cursor on its own goroutine; a client
// that falls more than lagLimit events behind is dropped with the index
// to resume from, long before the ring overwrites what it has not read.

// Event stream tuning.
const (
	// DefaultEventBuffer is how many events each node keeps for clients
	// that resume with ?since=. At the queue's full rate (a few thousand
	// jobs a second, three or four events each) it holds a few seconds:
	// enough for a reconnect, bounded to a few MiB of memory.
	DefaultEventBuffer = 1 << 15
	// frameWindow is how often a client is sent a frame at most: events
	// of the same 100 ms travel together, and a job's progress within
	// them is merged into one event.
	frameWindow = 100 * time.Millisecond
	// maxFrameEvents caps one frame, so that a client resuming far back
	// gets its backlog in pieces a browser parses without freezing.
	maxFrameEvents = 4096
)

// errReload says a client's since index is older than this node holds.
var errReload = errors.New("reload")

// errDropped says a client fell too far behind.
var errDropped = errors.New("dropped")

// cursor is one client's position: the next event sequence number it
// has not been sent, and the hub epoch it started in. slack is the
// backlog a resuming client started with, shrinking as it catches up: a
// client is not dropped for the backlog it asked for, only for falling
// behind.
type cursor struct {
	seq   uint64
	epoch uint64
	slack uint64
}

// hub is the ring of events one node serves.
type hub struct {
	mu       sync.Mutex
	ring     []Event
	first    uint64 // sequence number of the oldest held event
	next     uint64 // sequence number the next event gets
	floor    uint64 // every event with Index > floor is held
	last     uint64 // the newest index the hub has seen applied
	counts   QueueCounts
	epoch    uint64        // bumped when a snapshot replaces the state
	wake     chan struct{} // closed and replaced at every publish
	lagLimit uint64
	metrics  *eventMetrics
}

func newHub(size int, m *eventMetrics) *hub {
	if size <= 0 {
		size = DefaultEventBuffer
	}
	return &hub{ring: make([]Event, size), wake: make(chan struct{}), lagLimit: uint64(size / 2), metrics: m}
}

// start sets where the hub's knowledge begins: it holds every event
// after index (the index at which it started observing).
func (h *hub) start(index uint64, counts consensus.JobCounts) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.floor = max(h.floor, index)
	h.last = max(h.last, index)
	if h.next == 0 {
		h.counts = QueueCounts(counts)
	}
}

var _ consensus.Observer = (*hub)(nil)

// Applied takes the changes of one applied entry. It runs on Raft's
// apply goroutine and never blocks on a client.
func (h *hub) Applied(a consensus.Applied) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range a.Changes {
		h.push(changeEvent(a.Index, c))
	}
	h.counts = QueueCounts(a.Counts)
	h.last = max(h.last, a.Index)
	h.wakeReaders()
}

// Restored empties the hub: what happened up to index is unknown, and
// every client must read the state again.
func (h *hub) Restored(index uint64, counts consensus.JobCounts) {
	h.mu.Lock()
	defer h.mu.Unlock()
	clear(h.ring)
	h.first, h.next = 0, 0
	h.floor, h.last = index, index
	h.counts = QueueCounts(counts)
	h.epoch++
	h.wakeReaders()
}

// publish adds events this node observed outside the log (robots, the
// leader). They reflect the newest applied index.
func (h *hub) publish(evs ...Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, e := range evs {
		e.Index = h.last
		h.push(e)
	}
	h.wakeReaders()
}

func (h *hub) push(e Event) {
	size := uint64(len(h.ring))
	if h.next-h.first == size {
		h.floor = max(h.floor, h.ring[h.first%size].Index)
		h.ring[h.first%size] = Event{} // let its maps go
		h.first++
	}
	h.ring[h.next%size] = e
	h.next++
}

func (h *hub) wakeReaders() {
	close(h.wake)
	h.wake = make(chan struct{})
}

// subscribe places a cursor after since, or at the newest event when
// since is nil. It fails with errReload when events after since are no
// longer held. resume is the index the stream starts from.
func (h *hub) subscribe(since *uint64) (cur cursor, resume uint64, counts QueueCounts, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	cur.epoch = h.epoch
	if since == nil {
		return cursor{seq: h.next, epoch: h.epoch}, h.last, h.counts, nil
	}
	if *since < h.floor {
		return cur, h.last, h.counts, fmt.Errorf("%w: index %d is older than the oldest event this node holds (events after %d); read the state again and resume with the applied_index of your reads", errReload, *since, h.floor)
	}
	// Events are in index order: find the first one after since.
	n := int(h.next - h.first)
	size := uint64(len(h.ring))
	i := sort.Search(n, func(i int) bool { return h.ring[(h.first+uint64(i))%size].Index > *since })
	seq := h.first + uint64(i)
	return cursor{seq: seq, epoch: h.epoch, slack: h.next - seq}, *since, h.counts, nil
}

// batch is what a client reads at once.
type batch struct {
	events []Event
	resume uint64
	counts QueueCounts
	// wake is closed at the next publish: wait on it when events is
	// empty.
	wake <-chan struct{}
	// more says events remain after this batch.
	more bool
}

// read copies up to limit events after cur and advances it. It fails
// with errReload after a restore and with errDropped when the client is
// more than lagLimit events behind; resume then says where to reconnect.
func (h *hub) read(cur *cursor, limit int) (batch, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	size := uint64(len(h.ring))
	if cur.epoch != h.epoch {
		return batch{resume: h.last}, fmt.Errorf("%w: this node's state was replaced by a snapshot at index %d; read the state again", errReload, h.floor)
	}
	if h.next-cur.seq > max(h.lagLimit, cur.slack) || cur.seq < h.first {
		resume := h.floor
		if cur.seq >= h.first {
			resume = indexBefore(h.ring[cur.seq%size].Index)
		}
		return batch{resume: resume}, fmt.Errorf("%w: the client fell %d events behind (limit %d)", errDropped, h.next-cur.seq, h.lagLimit)
	}
	n := min(h.next-cur.seq, uint64(limit))
	b := batch{events: make([]Event, n), counts: h.counts, wake: h.wake, resume: h.last}
	for i := range n {
		b.events[i] = h.ring[(cur.seq+i)%size]
	}
	cur.seq += n
	cur.slack = min(cur.slack, h.next-cur.seq)
	if cur.seq < h.next {
		// The rest of the backlog follows; an index split between
		// frames is sent again rather than lost.
		b.more = true
		b.resume = indexBefore(h.ring[cur.seq%size].Index)
	}
	return b, nil
}

// indexBefore is the resume index that replays the events of index i:
// the one before it (an event observed before any entry has index 0).
func indexBefore(i uint64) uint64 {
	if i == 0 {
		return 0
	}
	return i - 1
}

// changeEvent turns a change the FSM noted into an event.
func changeEvent(index uint64, c consensus.Change) Event {
	e := Event{
		Index: index, Type: string(c.Kind), Time: c.Time, JobID: c.JobID, WorkflowID: c.WorkflowID,
		ScheduleID: c.ScheduleID, RobotID: c.RobotID, Attempt: c.Attempt, Error: c.Error,
	}
	switch c.Kind {
	case consensus.ChangeJob:
		e.From, e.To = string(c.From), string(c.To)
	case consensus.ChangeProgress:
		e.NodeStatus = c.NodeStatus
	case consensus.ChangeFire:
		e.FireTime, e.Skipped, e.Manual = c.FireTime, c.Skipped, c.Manual
	case consensus.ChangeRobot:
		e.Kind, e.Node, e.State = RobotKindInternet, c.Node, RobotDisconnected
		if c.Connected {
			e.State = RobotAlive
		}
	case consensus.ChangeDrain:
		// A copy: a pointer into c would move every c to the heap,
		// an allocation per job change on the apply path.
		drained := c.Drained
		e.Drained = &drained
	}
	return e
}
