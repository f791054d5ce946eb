package consensus

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/casare/casare/internal/rounds"
)

// Proving leadership for reads.
//
// A read index is sound only if this node still led its term at some
// moment after the read began: a quorum of voters must answer, in this
// term, a request sent after the read arrived. raft.VerifyLeader does not
// promise that. It counts any successful AppendEntries answer that raft
// reads after the check was registered, including an answer sent before
// the read began that is read late: a leader frozen (SIGSTOP, a paused
// VM, a long stall) while a heartbeat or an append was on the wire wakes
// to find the followers' old "yes" waiting on its connections, while the
// others have elected a new leader and acknowledged writes. Raft reads
// those answers first, VerifyLeader succeeds, and the woken node serves
// its old state as consistent. TestDeposedLeaderServesNoStaleReads (in
// test/cluster) froze leaders this way and caught such a read.
//
// So the leader sends heartbeats of its own. A round takes every caller
// waiting when it starts (rounds.Group) and only then sends one
// AppendEntries heartbeat per voter: the heartbeat raft sends (this term,
// this node as leader, no entries), on raft's transport and its
// authenticated connections. A follower answers success only while its
// term is this term, and a follower's term never goes back, so a quorum
// of successes (this node counting for itself while its own term has not
// moved) means no leader of a later term had been elected when the
// round's heartbeats were answered: after every caller of the round
// began. An answer to an earlier round is never counted in a later one.

// termReads is what read indexes need in one term of this node's
// leadership: it is published once the term's barrier committed.
type termReads struct {
	term   uint64
	proofs rounds.Group  // rounds of heartbeatRound in term
	beats  inflightBeats // the term's read heartbeats still unanswered
}

// currentReads returns the read proof of this node's current term, nil
// until that term's barrier has committed (or when it does not lead).
func (s *Store) currentReads() *termReads {
	if r := s.reads.Load(); r != nil && r.term == s.raft.CurrentTerm() {
		return r
	}
	return nil
}

// proveLeadership returns nil once a heartbeat round that started after
// the call has proved that this node leads the term.
func (s *Store) proveLeadership(ctx context.Context, r *termReads) error {
	return r.proofs.Wait(ctx, 2*s.cfg.leaderLease(), func(ctx context.Context) error {
		return s.heartbeatRound(ctx, r.term, &r.beats)
	})
}

// heartbeatRound proves that this node leads term among the voters of
// the latest configuration (see heartbeatQuorum).
func (s *Store) heartbeatRound(ctx context.Context, term uint64, beats *inflightBeats) error {
	// A leader that stepped down (its lease ran out) in the same term
	// could still win a round, but its heartbeats would name it leader to
	// followers about to elect another.
	if s.raft.State() != raft.Leader {
		return fmt.Errorf("no longer leads term %d: %w", term, raft.ErrNotLeader)
	}
	return s.heartbeatQuorum(ctx, term, s.voters(), beats)
}

// heartbeatQuorum sends one heartbeat of term to each of voters but this
// node and returns nil once a quorum, this node included if it is one,
// answered success in that term. It fails with raft.ErrLeadershipLost
// when a voter answers from a later term or this node's term moved, and
// with raft.ErrNotLeader when no quorum answered within the leader lease,
// the bound after which raft itself steps down. Its requests may outlive
// it; beats keeps one per voter in flight, and an answer is counted only
// by its own round.
func (s *Store) heartbeatQuorum(ctx context.Context, term uint64, voters []raft.Server, beats *inflightBeats) error {
	localID := raft.ServerID(s.cfg.Name)
	self := slices.ContainsFunc(voters, func(v raft.Server) bool { return v.ID == localID })
	need := len(voters)/2 + 1
	acks := 0
	if self {
		acks = 1
	}
	if acks >= need {
		return s.sameTerm(term)
	}
	addr := s.transport.EncodePeer(localID, s.transport.LocalAddr())
	req := raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(localID), Addr: addr},
		Term:      term,
	}
	answers := make(chan heartbeatAnswer, len(voters))
	sent := 0
	for _, v := range voters {
		if v.ID == localID || !beats.start(v.ID) {
			continue
		}
		sent++
		go func() {
			var resp raft.AppendEntriesResponse
			err := s.transport.AppendEntries(v.ID, v.Address, &req, &resp)
			beats.end(v.ID) // before the answer, so the next round may ask again
			answers <- heartbeatAnswer{voter: v.ID, resp: &resp, err: err}
		}()
	}
	lease := time.NewTimer(s.cfg.leaderLease())
	defer lease.Stop()
	for range sent {
		select {
		case a := <-answers:
			resp := a.resp
			switch {
			case a.err != nil || (len(resp.ID) > 0 && raft.ServerID(resp.ID) != a.voter):
				// no answer, or another server now at the voter's address
			case resp.Term > term: // refused, whatever Success says
				return fmt.Errorf("voter %s is in term %d, past %d: %w", a.voter, resp.Term, term, raft.ErrLeadershipLost)
			case resp.Success && resp.Term == term:
				if acks++; acks >= need {
					return s.sameTerm(term)
				}
			}
		case <-lease.C:
			return fmt.Errorf("%d of %d voters confirmed term %d within the leader lease: %w", acks, len(voters), term, raft.ErrNotLeader)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return fmt.Errorf("%d of %d voters confirmed term %d: %w", acks, len(voters), term, raft.ErrNotLeader)
}

// heartbeatAnswer is one voter's answer to a read heartbeat.
type heartbeatAnswer struct {
	voter raft.ServerID
	resp  *raft.AppendEntriesResponse
	err   error
}

// voters returns the voters of the latest configuration.
func (s *Store) voters() []raft.Server {
	var voters []raft.Server
	for _, srv := range s.raft.GetConfiguration().Configuration().Servers {
		if srv.Suffrage == raft.Voter {
			voters = append(voters, srv)
		}
	}
	return voters
}

// sameTerm checks that this node's term is still term: it has then not
// voted in a later one, so it counts for itself.
func (s *Store) sameTerm(term uint64) error {
	if now := s.raft.CurrentTerm(); now != term {
		return fmt.Errorf("term moved from %d to %d: %w", term, now, raft.ErrLeadershipLost)
	}
	return nil
}

// inflightBeats holds the voters with a heartbeat of a round still
// unanswered. A voter that does not answer (cut off, or dialled in vain
// until the transport's timeout) is not sent another meanwhile, so
// rounds cannot pile requests on it.
type inflightBeats struct {
	mu  sync.Mutex
	ids map[raft.ServerID]bool
}

func (b *inflightBeats) start(id raft.ServerID) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ids[id] {
		return false
	}
	if b.ids == nil {
		b.ids = make(map[raft.ServerID]bool)
	}
	b.ids[id] = true
	return true
}

func (b *inflightBeats) end(id raft.ServerID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.ids, id)
}
