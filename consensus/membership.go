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
	Name       string `json:"name"`
	RaftAddr   string `json:"raft_addr"`
	HTTPAddr   string `json:"http_addr"`
	QUICAddr   string `json:"quic_addr,omitempty"`
	GossipAddr string `json:"gossip_addr,omitempty"`
	// LogFormat is the newest log format the joining build applies. It
	// travels in the join's query (?log_format=), not its body, which a
	// leader of an older build decodes strictly.
	LogFormat int `json:"-"`
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
	// VaultKeys is the leader's vault keyring, so that a joining server
	// can open secrets. It is the one field the authenticated join must
	// carry for the vault; over an unauthenticated join it would hand the
	// key to anyone who asks.
	VaultKeys *VaultKeys `json:"vault_keys,omitempty"`
}

// Server is one member of the Raft configuration.
type Server struct {
	Name       string `json:"name"`
	RaftAddr   string `json:"raft_addr"`
	HTTPAddr   string `json:"http_addr,omitempty"`
	GossipAddr string `json:"gossip_addr,omitempty"`
	Voter      bool   `json:"voter"`
	Leader     bool   `json:"leader"`
}

// Join adds a server, on the leader or forwarded to it. Joining again
// with the same name and address changes nothing, so a restarting node
// may always call it.
func (s Membership) Join(ctx context.Context, req JoinRequest) (JoinResponse, error) {
	if req.Name == "" || req.RaftAddr == "" || req.HTTPAddr == "" {
		return JoinResponse{}, errorf(CodeInvalid, "join needs name, raft_addr and http_addr")
	}
	resp, err := onLeader(ctx, s.Store, "join "+req.Name, 0,
		func(ctx context.Context) (JoinResponse, error) { return s.joinLocal(ctx, req) },
		func(ctx context.Context, leader NodeInfo) (JoinResponse, error) {
			return s.cfg.Forwarder.Join(ctx, leader, req)
		})
	return resp, err
}

func (s Membership) joinLocal(ctx context.Context, req JoinRequest) (JoinResponse, error) {
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
	info := NodeInfo{
		Name: req.Name, RaftAddr: req.RaftAddr, HTTPAddr: req.HTTPAddr, QUICAddr: req.QUICAddr, GossipAddr: req.GossipAddr,
		LogFormat: req.LogFormat,
	}
	voter := voters < s.cfg.Voters
	if present {
		voter = slices.ContainsFunc(cfg.Servers, func(srv raft.Server) bool { return srv.ID == id && srv.Suffrage == raft.Voter })
	} else {
		// Registered before it is added as well: the name's earlier
		// registration may say it reads a log format this build does
		// not, and the leader would compress entries for it meanwhile
		// (Store.entryFor).
		if err := s.registerNode(ctx, info); err != nil {
			return JoinResponse{}, fmt.Errorf("register %s: %w", req.Name, err)
		}
		if err := s.addServer(id, addr, voter); err != nil {
			return JoinResponse{}, err
		}
	}
	// Registered (again) after it is added, so that the answer's index
	// covers the new configuration too.
	if err := s.registerNode(ctx, info); err != nil {
		return JoinResponse{}, fmt.Errorf("register %s: %w", req.Name, err)
	}
	s.log.Info("server joined", "name", req.Name, "raft_addr", req.RaftAddr, "voter", voter)
	resp := JoinResponse{Leader: s.cfg.Name, Voter: voter, Index: s.AppliedIndex()}
	if keys, ok := s.VaultKeys(); ok {
		resp.VaultKeys = &keys
	}
	return resp, nil
}

func (s Membership) addServer(id raft.ServerID, addr raft.ServerAddress, voter bool) error {
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

// RemoveRequest asks the leader to take a server out of the Raft
// configuration.
type RemoveRequest struct {
	Name string `json:"name"`
	// Operator marks a removal an operator asked for (casare operator
	// remove-server), as opposed to a server removing itself as it
	// leaves. It is refused for a server that gossip and Raft both still
	// reach, and when it would leave fewer voters than the target, a live
	// non-voter is promoted first if there is one.
	Operator bool `json:"operator,omitempty"`
}

// RemoveResponse says what a removal changed.
type RemoveResponse struct {
	Removed  string `json:"removed"`
	Promoted string `json:"promoted,omitempty"` // the non-voter promoted to keep the voter count
	Voters   int    `json:"voters"`             // voters left in the configuration
}

// RemoveServer removes a server from the Raft configuration, on the
// leader or forwarded to it (retried across leader changes; see
// onLeader). Removing a server that is not in the configuration fails
// with CodeNotFound; an operator removal of a server that is still
// alive fails with CodeConflict.
func (s Membership) RemoveServer(ctx context.Context, req RemoveRequest) (RemoveResponse, error) {
	if req.Name == "" {
		return RemoveResponse{}, errorf(CodeInvalid, "remove server: name is required")
	}
	return onLeader(ctx, s.Store, "remove server "+req.Name, 0,
		func(context.Context) (RemoveResponse, error) { return s.removeLocal(req, time.Now()) },
		func(ctx context.Context, leader NodeInfo) (RemoveResponse, error) {
			return s.cfg.Forwarder.Remove(ctx, leader, req)
		})
}

// Leave takes this server out of the Raft configuration. A leader hands
// leadership to another voter first, so the cluster never waits out an
// election timeout.
func (s Membership) Leave(ctx context.Context) error {
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
	_, err = s.RemoveServer(ctx, RemoveRequest{Name: s.cfg.Name})
	if IsCode(err, CodeNotFound) {
		return nil // removed meanwhile, by the leader's reaping or an operator
	}
	return err
}

func (s Membership) configuration() (raft.Configuration, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, fmt.Errorf("read raft configuration: %w", err)
	}
	return f.Configuration(), nil
}

// Servers lists the Raft configuration with the addresses servers
// registered.
func (s Membership) Servers() ([]Server, error) {
	cfg, err := s.configuration()
	if err != nil {
		return nil, err
	}
	_, leaderID := s.raft.LeaderWithID()
	out := make([]Server, 0, len(cfg.Servers))
	for _, srv := range cfg.Servers {
		info, _ := s.node(string(srv.ID))
		out = append(out, Server{
			Name: string(srv.ID), RaftAddr: string(srv.Address), HTTPAddr: info.HTTPAddr, GossipAddr: info.GossipAddr,
			Voter: srv.Suffrage == raft.Voter, Leader: srv.ID == leaderID,
		})
	}
	slices.SortFunc(out, func(a, b Server) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
