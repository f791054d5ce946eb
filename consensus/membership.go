package consensus

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/raft"
)

// JoinRequest asks the leader to add a server to the Raft configuration.
type JoinRequest struct {
	Name     string `json:"name"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr"`
	QUICAddr string `json:"quic_addr,omitempty"`
}

// JoinResponse says how the server was added.
type JoinResponse struct {
	Leader string `json:"leader"`
	Voter  bool   `json:"voter"`
	// Index is the leader's state-machine index after the node's
	// registration (so it also covers the new configuration); the joiner
	// waits to apply it so it serves a complete view from the start. It
	// is not Raft's applied index, which counts barriers the state
	// machine never sees.
	Index uint64 `json:"index,omitempty"`
}

// Server is one member of the Raft configuration.
type Server struct {
	Name     string `json:"name"`
	RaftAddr string `json:"raft_addr"`
	HTTPAddr string `json:"http_addr,omitempty"`
	Voter    bool   `json:"voter"`
	Leader   bool   `json:"leader"`
}

// Join adds a server, on the leader or forwarded to it. Joining again
// with the same name and address changes nothing, so a restarting node
// may always call it.
func (s *Store) Join(ctx context.Context, req JoinRequest) (JoinResponse, error) {
	if req.Name == "" || req.RaftAddr == "" || req.HTTPAddr == "" {
		return JoinResponse{}, errorf(CodeInvalid, "join needs name, raft_addr and http_addr")
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for attempt := 0; ; attempt++ {
		var resp JoinResponse
		var err error
		if s.raft.State() == raft.Leader {
			resp, err = s.joinLocal(ctx, req)
		} else if leader, lerr := s.leaderInfo(); lerr != nil {
			err = lerr
		} else {
			resp, err = s.cfg.Forwarder.Join(ctx, leader, req)
		}
		if err == nil || !retryable(err) {
			return resp, err
		}
		if werr := sleepCtx(ctx, backoffDelay(attempt)); werr != nil {
			return JoinResponse{}, fmt.Errorf("join %s gave up (%w): %w", req.Name, werr, err)
		}
	}
}

func (s *Store) joinLocal(ctx context.Context, req JoinRequest) (JoinResponse, error) {
	cfg, err := s.configuration()
	if err != nil {
		return JoinResponse{}, err
	}
	id, addr := raft.ServerID(req.Name), raft.ServerAddress(req.RaftAddr)
	voters, present := 0, false
	for _, srv := range cfg.Servers {
		if srv.Suffrage == raft.Voter {
			voters++
		}
		switch {
		case srv.ID == id && srv.Address == addr:
			present = true
		case srv.ID == id || srv.Address == addr:
			// The name moved to a new address or the address has a new
			// owner: the old entry is stale.
			if err := s.raft.RemoveServer(srv.ID, 0, 0).Error(); err != nil {
				return JoinResponse{}, fmt.Errorf("remove stale server %s: %w", srv.ID, err)
			}
			if srv.Suffrage == raft.Voter {
				voters--
			}
		}
	}
	voter := voters < s.cfg.Voters
	if present {
		voter = slices.ContainsFunc(cfg.Servers, func(srv raft.Server) bool { return srv.ID == id && srv.Suffrage == raft.Voter })
	} else if err := s.addServer(id, addr, voter); err != nil {
		return JoinResponse{}, err
	}
	err = s.registerNode(ctx, NodeInfo{Name: req.Name, RaftAddr: req.RaftAddr, HTTPAddr: req.HTTPAddr, QUICAddr: req.QUICAddr})
	if err != nil {
		return JoinResponse{}, fmt.Errorf("register %s: %w", req.Name, err)
	}
	s.log.Info("server joined", "name", req.Name, "raft_addr", req.RaftAddr, "voter", voter)
	return JoinResponse{Leader: s.cfg.Name, Voter: voter, Index: s.AppliedIndex()}, nil
}

func (s *Store) addServer(id raft.ServerID, addr raft.ServerAddress, voter bool) error {
	var f raft.IndexFuture
	if voter {
		f = s.raft.AddVoter(id, addr, 0, 0)
	} else {
		f = s.raft.AddNonvoter(id, addr, 0, 0)
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("add server %s: %w", id, err)
	}
	return nil
}

// RemoveServer removes a server from the Raft configuration, on the
// leader or forwarded to it.
func (s *Store) RemoveServer(ctx context.Context, name string) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	for attempt := 0; ; attempt++ {
		var err error
		if s.raft.State() == raft.Leader {
			err = s.raft.RemoveServer(raft.ServerID(name), 0, 0).Error()
		} else if leader, lerr := s.leaderInfo(); lerr != nil {
			err = lerr
		} else {
			err = s.cfg.Forwarder.Remove(ctx, leader, name)
		}
		if err == nil || !retryable(err) {
			return err
		}
		if werr := sleepCtx(ctx, backoffDelay(attempt)); werr != nil {
			return fmt.Errorf("remove server %s gave up (%w): %w", name, werr, err)
		}
	}
}

// Leave takes this server out of the Raft configuration. A leader hands
// leadership to another voter first, so the cluster never waits out an
// election timeout.
func (s *Store) Leave(ctx context.Context) error {
	cfg, err := s.configuration()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(cfg.Servers, func(srv raft.Server) bool { return srv.ID == raft.ServerID(s.cfg.Name) }) {
		return nil
	}
	if len(cfg.Servers) == 1 {
		return nil // the last server: nothing to hand over to
	}
	if s.raft.State() == raft.Leader {
		if err := s.raft.LeadershipTransfer().Error(); err != nil {
			s.log.Warn("leadership transfer before leave failed", "err", err)
		}
	}
	return s.RemoveServer(ctx, s.cfg.Name)
}

func (s *Store) configuration() (raft.Configuration, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, fmt.Errorf("read raft configuration: %w", err)
	}
	return f.Configuration(), nil
}

// Servers lists the Raft configuration with the addresses servers
// registered.
func (s *Store) Servers() ([]Server, error) {
	cfg, err := s.configuration()
	if err != nil {
		return nil, err
	}
	_, leaderID := s.raft.LeaderWithID()
	out := make([]Server, 0, len(cfg.Servers))
	for _, srv := range cfg.Servers {
		info, _ := s.node(string(srv.ID))
		out = append(out, Server{
			Name: string(srv.ID), RaftAddr: string(srv.Address), HTTPAddr: info.HTTPAddr,
			Voter: srv.Suffrage == raft.Voter, Leader: srv.ID == leaderID,
		})
	}
	slices.SortFunc(out, func(a, b Server) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// reconcileServers is the leader's periodic membership duty: remove
// servers gossip has seen dead for longer than the grace period (or that
// left), then promote live non-voters until the voter target is met.
func (s *Store) reconcileServers(now time.Time) {
	cfg, err := s.configuration()
	if err != nil || s.cfg.Liveness == nil {
		return
	}
	self := raft.ServerID(s.cfg.Name)
	var voters int
	var candidates []raft.Server
	for _, srv := range cfg.Servers {
		if srv.ID == self {
			voters++
			continue
		}
		state, since, ok := s.cfg.Liveness.MemberState(string(srv.ID))
		gone := ok && (state == "left" || (state == "dead" && now.Sub(since) >= s.cfg.DeadServerGrace))
		if gone {
			s.log.Warn("removing server gossip reports gone", "name", srv.ID, "state", state, "since", since)
			if err := s.raft.RemoveServer(srv.ID, 0, 0).Error(); err != nil {
				s.log.Error("remove dead server", "name", srv.ID, "err", err)
			}
			continue
		}
		switch {
		case srv.Suffrage == raft.Voter:
			voters++
		case ok && state == "alive":
			candidates = append(candidates, srv)
		}
	}
	slices.SortFunc(candidates, func(a, b raft.Server) int { return strings.Compare(string(a.ID), string(b.ID)) })
	for _, srv := range candidates {
		if voters >= s.cfg.Voters {
			return
		}
		s.log.Info("promoting non-voter to keep the voter count", "name", srv.ID, "voters", voters, "target", s.cfg.Voters)
		if err := s.raft.AddVoter(srv.ID, srv.Address, 0, 0).Error(); err != nil {
			s.log.Error("promote non-voter", "name", srv.ID, "err", err)
			return
		}
		voters++
	}
}
