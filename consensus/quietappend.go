package consensus

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Commit propagation without idle traffic.
//
// hashicorp/raft tells a follower the commit index only inside
// AppendEntries. In pipeline mode the leader sends one every
// CommitTimeout (5 ms here, so that a follower applies — and its robots
// see — the last entry of a burst within milliseconds) whether or not
// anything changed. On an idle three-server cluster that was about 270
// empty requests a second, each msgpack-encoded, sealed by TLS, decoded
// and answered: the largest single part of the idle leader's CPU in the
// fleet bench (raft.(*Raft).pipelineReplicate 19% of its samples,
// netPipeline.decodeResponses 7%) and most of the followers'.
//
// quietTransport leaves out a pipelined AppendEntries that tells the
// follower nothing it was not already sent on the same pipeline: no
// entries, and the term, previous entry and commit index of the last
// request the pipeline carried. A pipeline is one ordered connection, so
// the follower has that earlier request, or the pipeline fails and raft
// starts over on a new one (with a new, empty memory here). The first
// request with a new commit index still leaves at once: commit
// propagation keeps its latency, only the repeats go.
//
// A repeat still leaves once quietRefresh has passed since the
// pipeline's last request. A follower that restarted has forgotten the
// commit index, and nothing tells the leader so: its pipeline's old
// connection fails only when written to, and heartbeats carry no commit
// index. That refresh is the write that fails it, so raft starts over
// and the follower applies again within quietRefresh.
//
// What the answer to a left-out request would give the leader, the
// follower's last contact, comes from raft's heartbeats, which go
// outside the pipeline every HeartbeatTimeout/10 and are not touched;
// the read index sends heartbeats of its own (leaderproof.go). A
// left-out request gets no answer at all, so it can confirm nothing.
type quietTransport struct {
	*raft.NetworkTransport
	// left counts the requests left out, for tests.
	left atomic.Uint64
	// beats is held for reading by each heartbeat in flight and for
	// writing by Close (transport_drain.go).
	beats  sync.RWMutex
	closed bool
}

var (
	_ raft.Transport   = (*quietTransport)(nil)
	_ raft.WithClose   = (*quietTransport)(nil)
	_ raft.WithPreVote = (*quietTransport)(nil)
)

// quietRefresh is how long a pipeline may go without a request: it
// bounds how late a restarted follower learns the commit index (a
// follower restart takes seconds), and costs four small requests a
// second per follower where the commit ticks were 100 to 200.
const quietRefresh = 250 * time.Millisecond

func newQuietTransport(t *raft.NetworkTransport) *quietTransport {
	return &quietTransport{NetworkTransport: t}
}

// AppendEntriesPipeline wraps the network transport's pipeline.
func (t *quietTransport) AppendEntriesPipeline(id raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	p, err := t.NetworkTransport.AppendEntriesPipeline(id, target)
	if err != nil {
		return nil, err
	}
	return &quietPipeline{AppendPipeline: p, left: &t.left}, nil
}

// quietPipeline is one follower's pipeline with the last request it
// carried.
type quietPipeline struct {
	raft.AppendPipeline
	left *atomic.Uint64

	mu     sync.Mutex
	sent   bool
	last   appendPosition
	sentAt time.Time
}

// appendPosition is what an AppendEntries without entries tells a
// follower.
type appendPosition struct {
	term, prevIndex, prevTerm, commit uint64
}

func positionOf(req *raft.AppendEntriesRequest) appendPosition {
	return appendPosition{term: req.Term, prevIndex: req.PrevLogEntry, prevTerm: req.PrevLogTerm, commit: req.LeaderCommitIndex}
}

// AppendEntries sends req unless it repeats the last request without
// entries within quietRefresh; a left-out request returns a future that raft never consumes
// (the caller only checks the error).
func (p *quietPipeline) AppendEntries(req *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	pos, now := positionOf(req), time.Now()
	p.mu.Lock()
	repeat := len(req.Entries) == 0 && p.sent && pos == p.last && now.Sub(p.sentAt) < quietRefresh
	p.mu.Unlock()
	if repeat {
		p.left.Add(1)
		return leftOut{req: req, resp: resp, start: now}, nil
	}
	f, err := p.AppendPipeline.AppendEntries(req, resp)
	if err != nil {
		return f, err
	}
	// After entries, the next request's previous entry is their last.
	if n := len(req.Entries); n > 0 {
		pos.prevIndex, pos.prevTerm = req.Entries[n-1].Index, req.Entries[n-1].Term
	}
	p.mu.Lock()
	p.sent, p.last, p.sentAt = true, pos, now
	p.mu.Unlock()
	return f, nil
}

// leftOut is the future of a request that was not sent.
type leftOut struct {
	req   *raft.AppendEntriesRequest
	resp  *raft.AppendEntriesResponse
	start time.Time
}

func (f leftOut) Error() error                          { return nil }
func (f leftOut) Start() time.Time                      { return f.start }
func (f leftOut) Request() *raft.AppendEntriesRequest   { return f.req }
func (f leftOut) Response() *raft.AppendEntriesResponse { return f.resp }
