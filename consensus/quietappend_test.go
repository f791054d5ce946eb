package consensus

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/casare/casare/internal/testutil"
)

// recordingPipeline is an AppendPipeline that records what reaches it.
type recordingPipeline struct {
	sent []raft.AppendEntriesRequest
}

func (p *recordingPipeline) AppendEntries(req *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) (raft.AppendFuture, error) {
	p.sent = append(p.sent, *req)
	return leftOut{req: req, resp: resp}, nil
}

func (p *recordingPipeline) Consumer() <-chan raft.AppendFuture { return nil }
func (p *recordingPipeline) Close() error                       { return nil }

// TestQuietPipelineLeavesOutOnlyRepeats: of the requests raft pipelines,
// only an empty one that repeats the last request's term, previous entry
// and commit index stays home; entries, a new commit index and a new term
// always go, the first request of a pipeline goes even when empty, and a
// repeat goes once quietRefresh has passed.
func TestQuietPipelineLeavesOutOnlyRepeats(t *testing.T) {
	inner := &recordingPipeline{}
	qt := &quietTransport{}
	p := &quietPipeline{AppendPipeline: inner, left: &qt.left}
	empty := func(term, prev, prevTerm, commit uint64) *raft.AppendEntriesRequest {
		return &raft.AppendEntriesRequest{Term: term, PrevLogEntry: prev, PrevLogTerm: prevTerm, LeaderCommitIndex: commit}
	}
	withEntries := func(term, prev, commit uint64, idx ...uint64) *raft.AppendEntriesRequest {
		req := empty(term, prev, term, commit)
		for _, i := range idx {
			req.Entries = append(req.Entries, &raft.Log{Index: i, Term: term})
		}
		return req
	}
	steps := []struct {
		req  *raft.AppendEntriesRequest
		sent bool
		why  string
	}{
		{empty(2, 10, 2, 10), true, "the first request of a pipeline"},
		{empty(2, 10, 2, 10), false, "a repeat"},
		{withEntries(2, 10, 10, 11, 12), true, "entries"},
		{empty(2, 12, 2, 10), false, "empty after the entries, commit index already sent with them"},
		{empty(2, 12, 2, 12), true, "a new commit index"},
		{empty(2, 12, 2, 12), false, "a repeat of the new commit index"},
		{withEntries(2, 12, 12, 13), true, "entries again"},
		{empty(2, 13, 2, 13), true, "the commit index of the last entries"},
		{empty(3, 13, 2, 13), true, "a new term"},
		{empty(3, 13, 2, 13), false, "a repeat in the new term"},
	}
	for i, st := range steps {
		before := len(inner.sent)
		f, err := p.AppendEntries(st.req, &raft.AppendEntriesResponse{})
		if err != nil || f == nil {
			t.Fatalf("step %d (%s): future %v, err %v", i, st.why, f, err)
		}
		if sent := len(inner.sent) > before; sent != st.sent {
			t.Errorf("step %d (%s): sent %v, want %v", i, st.why, sent, st.sent)
		}
	}
	if got, want := qt.left.Load(), uint64(4); got != want {
		t.Errorf("left out %d requests, want %d", got, want)
	}
	// A follower that restarted forgot the commit index, and only a
	// write on the pipeline's dead connection tells raft: a repeat goes
	// once quietRefresh has passed.
	p.sentAt = p.sentAt.Add(-quietRefresh)
	before := len(inner.sent)
	if _, err := p.AppendEntries(empty(3, 13, 2, 13), &raft.AppendEntriesResponse{}); err != nil || len(inner.sent) != before+1 {
		t.Errorf("a repeat after quietRefresh was not sent (err %v)", err)
	}
}

// TestIdleClusterPropagatesCommitsWithoutRepeats: after the last write of
// a burst, with nothing written after it, every follower still applies it
// (it learns the commit index from the first empty request, which must
// not be left out), and while the cluster stays idle the leader's commit
// ticks are left out instead of sent.
func TestIdleClusterPropagatesCommitsWithoutRepeats(t *testing.T) {
	c := startCluster(t, 3)
	leader := c.waitLeader(5 * time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := leader.PutWorkflow(ctx, PutWorkflowCmd{ID: "w1", Name: "idle", Graph: graph("a"),
			Jobs: []JobSpec{{ID: fmt.Sprintf("j%d", i), ExecutionMode: "lan"}}}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	last := leader.AppliedIndex()
	for _, s := range c.stores {
		testutil.WaitFor(t, 2*time.Second, s.cfg.Name+" to apply the last write without another one", func() bool {
			return s.AppliedIndex() >= last
		})
	}
	left := leader.transport.left.Load()
	testutil.WaitFor(t, 5*time.Second, "the idle leader to leave out its repeated commit ticks", func() bool {
		return leader.transport.left.Load() >= left+20
	})
	if got := leader.AppliedIndex(); got != last {
		t.Fatalf("the idle cluster applied up to %d after %d", got, last)
	}
}
