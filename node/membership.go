package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/casare/casare/api"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh"
)

// A server can be taken out of the Raft configuration while it runs: the
// leader reaps it after a long network cut, or an operator removes it.
// Raft does not tell it: the leader simply stops sending it entries, so
// it would go on answering reads from a replica that no longer follows
// the cluster. The membership watch notices instead, stops the node
// serving data (503 not_member) and rejoins under the node's own name,
// catching up before it serves again.

const (
	// memberCheckInterval is how often a server checks that it is still
	// in the configuration: once a second notices a removal about as fast
	// as a follower notices a lost leader, at the cost of reading the
	// local configuration (and, only while no leader is known, one small
	// HTTP call per live server).
	memberCheckInterval = time.Second

	// peerAskTimeout bounds asking one peer for its view of the
	// configuration; a peer that does not answer within it is skipped
	// until the next check.
	peerAskTimeout = time.Second

	// rejoinTimeout bounds one rejoin: the join itself and the catch-up
	// to the leader's index, which may take a snapshot install.
	rejoinTimeout = 30 * time.Second

	// joinAskTimeout bounds asking one server to add this one back, so a
	// peer that is still cut off cannot use up the whole rejoin; the
	// leader answers after one configuration change and one registration
	// commit, milliseconds on a LAN.
	joinAskTimeout = 5 * time.Second
)

// watchMembership checks at once and then every memberCheckInterval,
// until ctx ends, that this server is in the Raft configuration, and
// rejoins when it is not.
func (n joining) watchMembership(ctx context.Context) {
	t := time.NewTicker(memberCheckInterval)
	defer t.Stop()
	for {
		n.checkMembership(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n joining) checkMembership(ctx context.Context) {
	outside, why := n.outsideConfiguration(ctx)
	if !outside && !n.notMember.Load() {
		return
	}
	if outside && !n.notMember.Swap(true) {
		n.removals.Add(1)
		n.log.Warn("this server is not in the cluster's Raft configuration; serving no data until it has rejoined and caught up", "evidence", why)
	}
	rctx, cancel := context.WithTimeout(ctx, rejoinTimeout)
	defer cancel()
	if err := n.rejoinRaft(rctx); err != nil {
		n.log.Warn("rejoin after removal failed; retrying", "err", err)
		return
	}
	n.notMember.Store(false)
	n.log.Info("rejoined the cluster and caught up; serving data again")
}

// outsideConfiguration reports whether this server is provably not in
// the configuration, and the evidence. Its own configuration is proof
// when it no longer lists it (it applied its removal). Otherwise, while
// it knows no leader (a removed server is sent nothing), the leader's
// word is proof: it asks the other servers, and one that leads and does
// not list it settles the question.
func (n joining) outsideConfiguration(ctx context.Context) (bool, string) {
	srvs, err := n.store.Servers()
	if err != nil {
		return false, ""
	}
	if !slices.ContainsFunc(srvs, func(s consensus.Server) bool { return s.Name == n.cfg.Name }) {
		return true, "the local configuration no longer lists it"
	}
	if n.store.LeaderName() != "" {
		return false, ""
	}
	for _, p := range n.serverPeers() {
		if p.clusterAddr == "" {
			continue // asked on its cluster port only: the API needs a token
		}
		actx, cancel := context.WithTimeout(ctx, peerAskTimeout)
		cl, err := n.clusterClient(p.clusterAddr).Cluster(actx)
		cancel()
		if err != nil || cl.RaftState != "Leader" {
			continue
		}
		listed := slices.ContainsFunc(cl.Servers, func(s api.ClusterServer) bool { return s.Name == n.cfg.Name })
		return !listed, "leader " + p.name + "'s configuration does not list it"
	}
	return false, ""
}

// serverPeer is another server this node can ask: its API address and
// its cluster port (internal endpoints).
type serverPeer struct{ name, httpAddr, clusterAddr string }

// serverPeers lists the other servers to ask: those of the local Raft
// configuration at their registered addresses (known even while gossip
// has not healed after a cut), then any other server gossip sees alive.
func (n joining) serverPeers() []serverPeer {
	var peers []serverPeer
	add := func(name, addr, clusterAddr string) {
		if name != n.cfg.Name && addr != "" && !slices.ContainsFunc(peers, func(p serverPeer) bool { return p.name == name }) {
			peers = append(peers, serverPeer{name, addr, clusterAddr})
		}
	}
	if srvs, err := n.store.Servers(); err == nil {
		for _, s := range srvs {
			add(s.Name, s.HTTPAddr, s.RaftAddr)
		}
	}
	for _, m := range n.mesh.Members() {
		if m.State == mesh.StateAlive && slices.Contains(m.Meta.Roles, wire.RoleServer) {
			add(m.Name, m.Meta.HTTPAddr, m.Meta.RaftAddr)
		}
	}
	return peers
}

// rejoinRaft asks the other servers, one after the other, to add this
// server again under its own name, then waits until it has applied
// everything the leader had when it answered.
func (n joining) rejoinRaft(ctx context.Context) error {
	req := n.joinRequest()
	var errs []error
	for _, p := range n.serverPeers() {
		if p.clusterAddr == "" {
			continue // asked on its cluster port only: the API needs a token
		}
		actx, cancel := context.WithTimeout(ctx, joinAskTimeout)
		resp, err := n.clusterClient(p.clusterAddr).Join(actx, req)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("via %s: %w", p.name, err))
			continue
		}
		if err := n.store.WaitApplied(ctx, resp.Index); err != nil {
			return fmt.Errorf("catch up after rejoining via %s: %w", p.name, err)
		}
		n.log.Info("rejoined the Raft configuration", "via", p.name, "leader", resp.Leader, "voter", resp.Voter)
		return nil
	}
	if len(errs) == 0 {
		return errors.New("no other server known to rejoin through")
	}
	return errors.Join(errs...)
}

// gossipPeers lists the gossip addresses of the other servers in this
// node's Raft configuration, for mesh to retry while gossip does not see
// them alive.
func (n joining) gossipPeers() []string {
	s := n.raftStore.Load()
	if s == nil {
		return nil
	}
	srvs, err := s.Servers()
	if err != nil {
		return nil
	}
	var addrs []string
	for _, srv := range srvs {
		if srv.Name != n.cfg.Name && srv.GossipAddr != "" {
			addrs = append(addrs, srv.GossipAddr)
		}
	}
	return addrs
}

// retryMember tells mesh whether a dead member is still worth retrying:
// a server removed from the Raft configuration is gone for good (a
// removed server that is in fact alive reconnects and rejoins from its
// own side); everything else is retried until gossip forgets it.
func (n joining) retryMember(m mesh.Member) bool {
	s := n.raftStore.Load()
	if s == nil || !slices.Contains(m.Meta.Roles, wire.RoleServer) {
		return true
	}
	srvs, err := s.Servers()
	if err != nil {
		return true
	}
	return slices.ContainsFunc(srvs, func(srv consensus.Server) bool { return srv.Name == m.Name })
}
