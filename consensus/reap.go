package consensus

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// Dead-server cleanup follows Consul autopilot's rules, made stricter by
// what a network cut taught us: gossip alone cannot be trusted to say a
// server is gone, because a view that memberlist declared dead during a
// short cut can stay dead after the link is back (see package mesh's
// reconnect loop). So the leader removes a server only when
//
//   - gossip has reported it dead for the whole grace period, AND
//   - Raft agrees: every heartbeat the leader sent it has failed, with no
//     successful heartbeat or append, for the whole grace period;
//   - no other server was removed within the last grace period, and the
//     check is made afresh each time (a cut that hit two followers one
//     after the other must not take both);
//   - the configuration keeps at least the target number of voters
//     (--voters): a live non-voter is promoted first when one is needed,
//     and when there is none the dead voter stays until an operator
//     removes it (casare operator remove-server), as Consul's
//     min_quorum does.
//
// A server that left on purpose (gossip "left") is taken out at once: it
// asked to go.

// reapState is what the reaping duty remembers between ticks. Only the
// leader's duty goroutine touches it, one term after another.
type reapState struct {
	lastRemoval time.Time
	warned      map[raft.ServerID]time.Time // last "will not remove" warning per server
}

// reapWarnEvery limits the warning about a dead voter that cannot be
// removed to one a minute, which keeps it visible without flooding.
const reapWarnEvery = time.Minute

// serverView is one server of the configuration with what gossip and
// Raft say about it.
type serverView struct {
	raft.Server
	gossip      string    // gossip state; "" when gossip does not know it
	gossipSince time.Time // since when
	raftDown    time.Time // last successful Raft contact, when every heartbeat since has failed
	raftReached bool      // the leader's heartbeats to it are not failing
}

// alive reports whether both gossip and Raft reach the server.
func (v serverView) alive() bool { return v.gossip == "alive" && v.raftReached }

// gone reports whether gossip and Raft agree the server has been gone for
// the whole grace period before now.
func (v serverView) gone(now time.Time, grace time.Duration) bool {
	return v.gossip == "dead" && now.Sub(v.gossipSince) >= grace &&
		!v.raftReached && now.Sub(v.raftDown) >= grace
}

// viewServers reads the configuration and what is known of each server.
func (s Membership) viewServers() ([]serverView, error) {
	cfg, err := s.configuration()
	if err != nil {
		return nil, err
	}
	self := raft.ServerID(s.cfg.Name)
	views := make([]serverView, 0, len(cfg.Servers))
	for _, srv := range cfg.Servers {
		v := serverView{Server: srv, raftReached: true}
		if srv.ID == self {
			v.gossip = "alive"
			views = append(views, v)
			continue
		}
		if s.cfg.Liveness != nil {
			if state, since, ok := s.cfg.Liveness.MemberState(string(srv.ID)); ok {
				v.gossip, v.gossipSince = state, since
			}
		}
		if down, failing := s.watch.unreachableSince(srv.ID); failing {
			v.raftDown, v.raftReached = down, false
		}
		views = append(views, v)
	}
	slices.SortFunc(views, func(a, b serverView) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return views, nil
}

func countVoters(views []serverView) int {
	n := 0
	for _, v := range views {
		if v.Suffrage == raft.Voter {
			n++
		}
	}
	return n
}

// promotable returns a non-voter that gossip and Raft both reach, if any.
func promotable(views []serverView, except raft.ServerID) (serverView, bool) {
	for _, v := range views {
		if v.Suffrage != raft.Voter && v.ID != except && v.alive() {
			return v, true
		}
	}
	return serverView{}, false
}

// reconcileServers is the leader's periodic membership duty: take out
// servers that left, reap at most one dead server per grace period under
// the rules above, then promote live non-voters until the voter target
// is met.
func (s Membership) reconcileServers(now time.Time) {
	if s.cfg.Liveness == nil {
		return
	}
	views, err := s.viewServers()
	if err != nil {
		s.log.Warn("read configuration for server reaping", "err", err)
		return
	}
	if s.removeLeft(views) {
		return // look again with the new configuration
	}
	if s.reapDead(views, now) {
		return
	}
	s.promoteToTarget(views)
}

// removeLeft takes out the first server that left gossip on purpose but
// is still in the configuration (its own Raft leave did not complete).
func (s Membership) removeLeft(views []serverView) bool {
	for _, v := range views {
		if v.gossip != "left" {
			continue
		}
		s.log.Info("removing a server that left", "name", v.ID)
		if err := s.raft.RemoveServer(v.ID, 0, 0).Error(); err != nil {
			s.log.Error("remove a server that left", "name", v.ID, "err", err)
		}
		return true
	}
	return false
}

// reapDead removes the first server that gossip and Raft agree is gone,
// if the last removal is a grace period old and the voter target allows
// it (promoting a live non-voter first when needed). It reports whether
// it changed the configuration.
func (s Membership) reapDead(views []serverView, now time.Time) bool {
	grace := s.cfg.DeadServerGrace
	if now.Sub(s.reap.lastRemoval) < grace {
		return false
	}
	for _, v := range views {
		if !v.gone(now, grace) {
			continue
		}
		promoted, err := s.keepVoters(views, v, now)
		switch {
		case err != nil && promoted != "":
			return true // the promotion may have changed the configuration
		case err != nil:
			// This voter waits for an operator; another gone server (a
			// non-voter, say) may still be removed.
			continue
		}
		s.log.Warn("removing a server that gossip and Raft agree is gone",
			"name", v.ID, "dead_in_gossip_since", v.gossipSince, "last_raft_contact", v.raftDown, "grace", grace)
		if err := s.raft.RemoveServer(v.ID, 0, 0).Error(); err != nil {
			s.log.Error("remove dead server", "name", v.ID, "err", err)
			return true
		}
		s.reap.lastRemoval = now
		return true
	}
	return false
}

// keepVoters makes sure removing v leaves the target number of voters:
// it promotes a live non-voter when one is needed and available. It
// returns an error (and warns, at most once a minute per server) when
// the removal must wait for an operator.
func (s Membership) keepVoters(views []serverView, v serverView, now time.Time) (promoted string, err error) {
	if v.Suffrage != raft.Voter || countVoters(views)-1 >= s.cfg.Voters {
		return "", nil
	}
	if p, ok := promotable(views, v.ID); ok {
		s.log.Info("promoting a non-voter before removing a dead voter", "name", p.ID, "dead", v.ID)
		if err := s.raft.AddVoter(p.ID, p.Address, 0, 0).Error(); err != nil {
			s.log.Error("promote non-voter", "name", p.ID, "err", err)
			return string(p.ID), fmt.Errorf("promote %s: %w", p.ID, err)
		}
		return string(p.ID), nil
	}
	if s.reap.warned == nil {
		s.reap.warned = make(map[raft.ServerID]time.Time)
	}
	if now.Sub(s.reap.warned[v.ID]) >= reapWarnEvery {
		s.reap.warned[v.ID] = now
		s.log.Warn("not removing a dead voter: it would leave fewer voters than the target and no live non-voter can be promoted; "+
			"if it is gone for good, remove it with 'casare operator remove-server'",
			"name", v.ID, "voters", countVoters(views), "target", s.cfg.Voters)
	}
	return "", fmt.Errorf("removing %s would leave %d voters, below the target of %d", v.ID, countVoters(views)-1, s.cfg.Voters)
}

// promoteToTarget promotes live non-voters until the voter target is
// met.
func (s Membership) promoteToTarget(views []serverView) {
	voters := countVoters(views)
	for _, v := range views {
		if voters >= s.cfg.Voters {
			return
		}
		if v.Suffrage == raft.Voter || !v.alive() {
			continue
		}
		s.log.Info("promoting non-voter to keep the voter count", "name", v.ID, "voters", voters, "target", s.cfg.Voters)
		if err := s.raft.AddVoter(v.ID, v.Address, 0, 0).Error(); err != nil {
			s.log.Error("promote non-voter", "name", v.ID, "err", err)
			return
		}
		voters++
	}
}

// removeLocal is an operator's or a leaving server's removal, on the
// leader.
func (s Membership) removeLocal(req RemoveRequest, now time.Time) (RemoveResponse, error) {
	views, err := s.viewServers()
	if err != nil {
		return RemoveResponse{}, err
	}
	i := slices.IndexFunc(views, func(v serverView) bool { return string(v.ID) == req.Name })
	if i < 0 {
		return RemoveResponse{}, errorf(CodeNotFound, "server %s is not in the Raft configuration", req.Name)
	}
	v, resp := views[i], RemoveResponse{Removed: req.Name, Voters: countVoters(views)}
	if req.Operator {
		if err := s.checkOperatorRemoval(views, v); err != nil {
			return RemoveResponse{}, err
		}
		if v.Suffrage == raft.Voter && resp.Voters-1 < s.cfg.Voters {
			if p, ok := promotable(views, v.ID); ok {
				if err := s.raft.AddVoter(p.ID, p.Address, 0, 0).Error(); err != nil {
					return RemoveResponse{}, fmt.Errorf("promote %s before removing %s: %w", p.ID, v.ID, err)
				}
				resp.Promoted, resp.Voters = string(p.ID), resp.Voters+1
			}
		}
	}
	if err := s.raft.RemoveServer(v.ID, 0, 0).Error(); err != nil {
		return RemoveResponse{}, fmt.Errorf("remove server %s: %w", v.ID, err)
	}
	if v.Suffrage == raft.Voter {
		resp.Voters--
	}
	if req.Operator {
		s.log.Warn("operator removed a server", "name", v.ID, "promoted", resp.Promoted, "voters", resp.Voters)
	}
	return resp, nil
}

// checkOperatorRemoval refuses removals that would hurt: a server that
// is still alive (it would only rejoin by itself) and the last voter.
func (s Membership) checkOperatorRemoval(views []serverView, v serverView) error {
	if v.alive() {
		return errorf(CodeConflict, "server %s is alive (gossip and Raft both reach it); a running server rejoins by itself after a removal, "+
			"so take it out with 'casare node leave' on it instead", v.ID)
	}
	if v.Suffrage == raft.Voter && countVoters(views) == 1 {
		return errorf(CodeInvalid, "server %s is the last voter; removing it would leave no cluster", v.ID)
	}
	return nil
}
