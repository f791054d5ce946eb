package consensus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// maxReadIndexScan bounds how far back leaderReadIndex looks for an entry
// the state machine applies. Only a leader's no-op and barriers are
// skipped (one of each per term, and a few membership changes), so a
// handful of steps is the norm; past the bound it falls back to a barrier.
const maxReadIndexScan = 64

// leaderReadIndex is ReadIndex on the leader. The commit index is read
// before leadership is proved, so every write acknowledged before the
// call is at or below it: a write is acknowledged only once committed.
// The proof is a round of heartbeats sent after the call (leaderproof.go).
//
// A leader's commit index covers what earlier leaders committed only once
// an entry of its own term has committed (Raft §6.4, etcd's
// "committed-in-term" check). Until the barrier of startDuties has, it
// uses a barrier as ReadIndex did before: that writes an entry, once per
// term at most in practice.
func (s Replica) leaderReadIndex(ctx context.Context) (uint64, error) {
	reads := s.currentReads()
	if reads == nil {
		return s.barrierReadIndex(ctx)
	}
	commit := s.raft.CommitIndex()
	if err := s.proveLeadership(ctx, reads); err != nil {
		return 0, fmt.Errorf("confirm leadership: %w", err)
	}
	idx, err := stateIndexAtOrBelow(s.logs, commit, maxReadIndexScan)
	if err != nil {
		return s.barrierReadIndex(ctx)
	}
	return idx, nil
}

// barrierReadIndex proves leadership and flushes the state machine with a
// barrier entry, then reports the applied index.
func (s Replica) barrierReadIndex(ctx context.Context) (uint64, error) {
	if err := s.raft.Barrier(time.Until(deadline(ctx))).Error(); err != nil {
		return 0, err
	}
	idx, _ := s.fsm.appliedIndex()
	return idx, nil
}

// errScanBound says that no entry the state machine applies was found
// within the scan's bound.
var errScanBound = errors.New("no state entry within the scan bound")

// stateIndexAtOrBelow returns the index of the last entry at or below idx
// that the state machine applies (a command or a configuration). The
// state machine never sees no-ops and barriers, so its applied index
// would never reach a commit index that ends on one: waiting for this
// index instead covers exactly the same state. An entry no longer in the
// log (compacted) fails the scan, and the caller falls back to a barrier.
func stateIndexAtOrBelow(logs raft.LogStore, idx uint64, bound int) (uint64, error) {
	for i, steps := idx, 0; i > 0; i, steps = i-1, steps+1 {
		if steps == bound {
			return 0, errScanBound
		}
		var l raft.Log
		err := logs.GetLog(i, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			return 0, errScanBound // compacted or not yet here: let a barrier decide
		}
		if err != nil {
			return 0, fmt.Errorf("entry %d: %w", i, err)
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return i, nil
		}
	}
	return 0, nil
}
