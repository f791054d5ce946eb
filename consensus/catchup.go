package consensus

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// catchUpRecheck is how often a catching-up node looks again when no
// entry is applied meanwhile: it notices a leader to ask within this.
const catchUpRecheck = 100 * time.Millisecond

// catchUpAskTimeout bounds one question to the leader about its index.
const catchUpAskTimeout = 2 * time.Second

// catchUp tracks whether a restarted node has applied what it held
// before the restart. Until then its replica is a past state of the
// cluster (empty, at first), and reads from it would be wrong rather
// than stale: the API answers 503 catching_up instead.
type catchUp struct {
	// target is the index to apply: the last entry in the log store at
	// open, lowered to the leader's index once the leader names it (an
	// uncommitted tail of the local log may never be applied).
	target atomic.Uint64
	done   atomic.Bool
	// stopped is closed when the watcher has returned.
	stopped chan struct{}
}

// CatchingUp reports whether the node is still applying what it held
// before it restarted, with its applied index and the index it waits for.
// A node that started without state never catches up.
func (s Replica) CatchingUp() (behind bool, applied, target uint64) {
	applied, _ = s.fsm.appliedIndex()
	target = s.catchUp.target.Load()
	return !s.catchUp.done.Load() && applied < target, applied, target
}

// lastStateEntry returns the index and term of the last entry in logs
// that the state machine applies (a command or a configuration change),
// zeros if none. The entries after it, a leader's no-op and barriers,
// never reach the state machine, so its applied index never reaches them.
func lastStateEntry(logs raft.LogStore) (index, term uint64, err error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return 0, 0, err
	}
	last, err := logs.LastIndex()
	if err != nil {
		return 0, 0, err
	}
	for i := last; i >= first && i > 0; i-- {
		var l raft.Log
		if err := logs.GetLog(i, &l); err != nil {
			return 0, 0, fmt.Errorf("entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i, l.Term, nil
		}
	}
	return 0, 0, nil // what the state machine has comes from the snapshot
}

// startCatchUp watches the applied index until it reaches lastIndex,
// the last entry of the log store the state machine applies.
func (s Replica) startCatchUp(ctx context.Context, lastIndex uint64) {
	s.catchUp.target.Store(lastIndex)
	s.catchUp.stopped = make(chan struct{})
	go func() {
		defer close(s.catchUp.stopped)
		s.watchCatchUp(ctx)
	}()
}

func (s Replica) watchCatchUp(ctx context.Context) {
	start := time.Now()
	askedLeader := false
	for {
		applied, changed := s.fsm.appliedIndex()
		if target := s.catchUp.target.Load(); applied >= target {
			s.catchUp.done.Store(true)
			if target > 0 {
				s.log.Info("caught up with the state held before the restart", "applied_index", applied, "took", time.Since(start))
			}
			return
		}
		if !askedLeader && s.raft.State() == raft.Follower && s.LeaderName() != "" {
			askedLeader = s.lowerTargetToLeader(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-time.After(catchUpRecheck):
		}
	}
}

// lowerTargetToLeader asks the leader for its index: entries up to it
// are all that was committed, so the node is caught up once it has
// applied them even if its log held more. It reports whether it got an
// answer.
func (s Replica) lowerTargetToLeader(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, catchUpAskTimeout)
	defer cancel()
	idx, err := s.ReadIndex(ctx)
	if err != nil {
		s.log.Debug("ask the leader for its index while catching up", "err", err)
		return false
	}
	if idx < s.catchUp.target.Load() {
		s.catchUp.target.Store(idx)
	}
	return true
}
