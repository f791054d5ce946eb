package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/api/wire"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
	"github.com/casare/casare/mesh"
	"github.com/casare/casare/node/peer"
)

// joinTimeout bounds a first join; a node that cannot reach the cluster
// at its first boot fails loudly instead of running alone.
const joinTimeout = 60 * time.Second

// join connects the node to the rest of the cluster. A first boot joins
// through the seed and fails loudly if it cannot. A restart already has
// its Raft state, so it starts at once and rejoins in the background
// through the seed or the peers remembered from the last run — the seed
// may be the very node that died.
func (n joining) join(ctx, runCtx context.Context) error {
	restart := n.cfg.Join == "" || (n.store != nil && n.store.HadState())
	if restart {
		n.wg.Go(func() { n.rejoin(runCtx) })
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	return n.joinVia(ctx, n.cfg.Join)
}

// rejoin retries until gossip and Raft membership are restored. A server
// that left gracefully was removed from Raft; joining again re-adds it,
// and for one that never left the join changes nothing.
func (n joining) rejoin(ctx context.Context) {
	p := retry.Policy{First: 300 * time.Millisecond, Max: 5 * time.Second, OnRetry: func(tries int, err error, _ time.Duration) {
		n.log.Debug("rejoin attempt failed", "attempt", tries, "err", err)
	}}
	retry.Do(ctx, p, func() (struct{}, error) { return struct{}{}, n.tryRejoin(ctx) })
}

func (n joining) tryRejoin(ctx context.Context) error {
	addrs := n.peers.load()
	if n.cfg.Join != "" {
		if c, err := n.seedClient(ctx, n.cfg.Join); err == nil {
			if seeds, err := fetchSeeds(ctx, c); err == nil {
				addrs = append(addrs, seeds...)
			}
		}
	}
	if len(addrs) == 0 {
		return nil // a cluster of one: nobody to rejoin
	}
	if _, err := n.mesh.Join(ctx, addrs); err != nil {
		return fmt.Errorf("rejoin gossip: %w", err)
	}
	if n.store == nil {
		return nil
	}
	req := n.joinRequest()
	var errs []error
	for _, m := range n.mesh.Members() {
		if m.Name == n.cfg.Name || m.State != mesh.StateAlive || !slices.Contains(m.Meta.Roles, wire.RoleServer) {
			continue
		}
		resp, err := n.clusterClient(m.Meta.RaftAddr).Join(ctx, req)
		if err == nil {
			n.log.Info("rejoined the cluster", "via", m.Name, "leader", resp.Leader, "voter", resp.Voter)
			if err := n.installVaultKeys(resp); err != nil {
				return err
			}
			return n.formatRegistered(ctx, resp.Index)
		}
		errs = append(errs, fmt.Errorf("via %s: %w", m.Name, err))
	}
	if len(errs) == 0 {
		return fmt.Errorf("rejoin raft: no live server in gossip yet")
	}
	return fmt.Errorf("rejoin raft: %w", errors.Join(errs...))
}

// formatRegistered reports whether the registry, once this replica holds
// the rejoin's registration, shows the log format this build reads. A
// leader of an older build, or a join forwarded through a server of one,
// records none, and the leader then never compresses entries
// (consensus.LogFormat); the rejoin goes on until one of this build has
// recorded it.
func (n joining) formatRegistered(ctx context.Context, index uint64) error {
	if err := n.store.WaitApplied(ctx, index); err != nil {
		return fmt.Errorf("catch up after rejoin: %w", err)
	}
	for _, info := range n.store.Nodes() {
		if info.Name == n.cfg.Name && info.LogFormat >= consensus.LogFormat {
			return nil
		}
	}
	return fmt.Errorf("rejoin raft: the cluster registered this server without its log format %d (a leader, or a forward, of an older build)", consensus.LogFormat)
}

func (n joining) joinRequest() consensus.JoinRequest {
	return consensus.JoinRequest{
		Name: n.cfg.Name, RaftAddr: n.cfg.advertise(n.cfg.RaftPort),
		HTTPAddr: n.cfg.httpAdvertise(), QUICAddr: n.cfg.quicAdvertise(),
		GossipAddr: n.mesh.Addr(), LogFormat: consensus.LogFormat,
	}
}

// seedClient reaches the internal endpoints of the member whose API
// address is seed: it asks that API where the member's cluster port is.
func (n joining) seedClient(ctx context.Context, seed string) (*peer.Client, error) {
	var info clusterPortInfo
	if err := client.New("http://"+seed).GetJSON(ctx, clusterInfoPath, &info); err != nil {
		return nil, fmt.Errorf("ask %s for its cluster port: %w", seed, err)
	}
	return n.clusterClient(info.ClusterAddr), nil
}

func (n joining) joinVia(ctx context.Context, seed string) error {
	p := joinRetry
	p.OnRetry = func(tries int, err error, _ time.Duration) {
		n.log.Debug("join attempt failed", "seed", seed, "attempt", tries, "err", err)
	}
	_, err := retry.Do(ctx, p, func() (struct{}, error) {
		c, err := n.seedClient(ctx, seed)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, n.tryJoin(ctx, c)
	})
	if err != nil {
		return fmt.Errorf("join cluster via %s: %w", seed, err)
	}
	return nil
}

// joinRetry spaces the tries of a join while the seed is unreachable or
// the cluster has no leader yet.
var joinRetry = retry.Policy{First: 200 * time.Millisecond, Max: 2 * time.Second}

func (n joining) tryJoin(ctx context.Context, c *peer.Client) error {
	seeds, err := fetchSeeds(ctx, c)
	if err != nil {
		return err
	}
	if _, err := n.mesh.Join(ctx, append(seeds, n.peers.load()...)); err != nil {
		return fmt.Errorf("join gossip: %w", err)
	}
	if n.store == nil {
		return nil
	}
	resp, err := c.Join(ctx, n.joinRequest())
	if err != nil {
		return fmt.Errorf("join raft: %w", err)
	}
	if err := n.installVaultKeys(resp); err != nil {
		return err
	}
	if err := n.store.WaitApplied(ctx, resp.Index); err != nil {
		return fmt.Errorf("catch up after join: %w", err)
	}
	n.log.Info("joined the cluster", "leader", resp.Leader, "voter", resp.Voter)
	return nil
}

type seedList struct {
	Gossip []string `json:"gossip"`
}

func fetchSeeds(ctx context.Context, c *peer.Client) ([]string, error) {
	var seeds seedList
	if err := c.GetJSON(ctx, "/internal/v1/seeds", &seeds); err != nil {
		return nil, fmt.Errorf("fetch gossip seeds: %w", err)
	}
	if len(seeds.Gossip) == 0 {
		return nil, fmt.Errorf("fetch gossip seeds: the seed listed no live members")
	}
	return seeds.Gossip, nil
}

// serveSeeds lists the gossip addresses of live members for joiners.
func (n clusterLink) serveSeeds(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seedList{Gossip: liveGossipAddrs(n.mesh)})
}

func liveGossipAddrs(m *mesh.Mesh) []string {
	var addrs []string
	for _, mem := range m.Members() {
		if mem.State == mesh.StateAlive {
			addrs = append(addrs, mem.Addr)
		}
	}
	return addrs
}

// peerFile remembers gossip addresses across restarts.
type peerFile struct{ path string }

func newPeerFile(dataDir string) *peerFile {
	return &peerFile{path: filepath.Join(dataDir, "gossip-peers.json")}
}

func (p *peerFile) load() []string {
	data, err := os.ReadFile(p.path)
	if err != nil {
		return nil
	}
	var addrs []string
	if json.Unmarshal(data, &addrs) != nil {
		return nil
	}
	return addrs
}

func (p *peerFile) save(m *mesh.Mesh, log *slog.Logger) {
	addrs := liveGossipAddrs(m)
	addrs = slices.DeleteFunc(addrs, func(a string) bool { return a == m.Addr() })
	if len(addrs) == 0 {
		return // keep what the last run knew rather than forget everyone
	}
	data, _ := json.Marshal(addrs)
	tmp := p.path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		log.Warn("remember gossip peers", "err", err)
		return
	}
	if err := os.Rename(tmp, p.path); err != nil {
		log.Warn("remember gossip peers", "err", err)
	}
}

// keep saves the live peers every few seconds until ctx ends.
func (p *peerFile) keep(ctx context.Context, m *mesh.Mesh, log *slog.Logger) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.save(m, log)
		}
	}
}

// streamsUnbounded lifts the server's read and write deadlines for a log
// stream passed through the proxy: the server at the other end bounds
// the stream (its keep-alives fail on a vanished client, which ends the
// proxied copy), and the deadlines would cut a healthy stream short. Only
// a GET of a job's log qualifies: any other request with ?follow=true
// (a POST whose body trickles in) keeps its deadlines.
func streamsUnbounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isLogStream(r) {
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})  // ErrNotSupported only on
			_ = rc.SetWriteDeadline(time.Time{}) // writers without deadlines
		}
		h.ServeHTTP(w, r)
	})
}

// isLogStream reports whether r follows a job's log:
// GET /api/v1/jobs/{id}/logs?follow=true.
func isLogStream(r *http.Request) bool {
	follow, _ := strconv.ParseBool(r.URL.Query().Get("follow"))
	id, ok := strings.CutPrefix(r.URL.Path, "/api/v1/jobs/")
	id, ok2 := strings.CutSuffix(id, "/logs")
	return follow && r.Method == http.MethodGet && ok && ok2 && id != "" && !strings.Contains(id, "/")
}

// installVaultKeys keeps the vault keyring the join response carries, so
// this server can open secrets for the robots it serves. This is the
// vault's whole part in the join: the authenticated join (issue 12) only
// has to carry JoinResponse.VaultKeys.
func (n joining) installVaultKeys(resp consensus.JoinResponse) error {
	if resp.VaultKeys == nil {
		return nil
	}
	if err := n.store.InstallVaultKeys(*resp.VaultKeys, false); err != nil {
		return fmt.Errorf("keep the cluster's vault key: %w", err)
	}
	return nil
}
