package node

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/casare/casare/api/client"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/mesh"
)

// joinTimeout bounds a first join; a node that cannot reach the cluster
// at its first boot fails loudly instead of running alone.
const joinTimeout = 60 * time.Second

// join connects the node to the rest of the cluster: gossip through the
// seed's member list and the addresses remembered from the last run, and
// Raft through the seed. A restarting server already has its Raft state
// and peers, so it joins in the background and does not wait for the
// seed, which may be the very node that died.
func (n *Node) join(ctx, runCtx context.Context) error {
	if n.cfg.Join == "" {
		if addrs := n.peers.load(); len(addrs) > 0 {
			n.wg.Go(func() { n.rejoinGossip(runCtx, addrs) })
		}
		return nil
	}
	if n.store != nil && n.store.HadState() {
		n.wg.Go(func() {
			if err := n.joinVia(runCtx, n.cfg.Join); err != nil {
				n.log.Warn("rejoin after restart", "seed", n.cfg.Join, "err", err)
			}
		})
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, joinTimeout)
	defer cancel()
	return n.joinVia(ctx, n.cfg.Join)
}

func (n *Node) joinVia(ctx context.Context, seed string) error {
	c := client.New("http://" + seed)
	var lastErr error
	for attempt := 0; ; attempt++ {
		lastErr = n.tryJoin(ctx, c)
		if lastErr == nil {
			return nil
		}
		n.log.Debug("join attempt failed", "seed", seed, "attempt", attempt, "err", lastErr)
		select {
		case <-ctx.Done():
			return fmt.Errorf("join cluster via %s: %w (last error: %v)", seed, ctx.Err(), lastErr)
		case <-time.After(min(time.Duration(attempt+1)*200*time.Millisecond, 2*time.Second)):
		}
	}
}

func (n *Node) tryJoin(ctx context.Context, c *client.Client) error {
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
	resp, err := c.Join(ctx, consensus.JoinRequest{
		Name: n.cfg.Name, RaftAddr: n.cfg.advertise(n.cfg.RaftPort),
		HTTPAddr: n.cfg.advertise(n.cfg.HTTPPort), QUICAddr: n.cfg.advertise(n.cfg.QUICPort),
	})
	if err != nil {
		return fmt.Errorf("join raft: %w", err)
	}
	n.log.Info("joined the cluster", "leader", resp.Leader, "voter", resp.Voter)
	return nil
}

// rejoinGossip retries remembered peers until one answers; a restarted
// node would otherwise stay alone in gossip.
func (n *Node) rejoinGossip(ctx context.Context, addrs []string) {
	for attempt := 0; ; attempt++ {
		if _, err := n.mesh.Join(ctx, addrs); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(min(time.Duration(attempt+1)*500*time.Millisecond, 5*time.Second)):
		}
	}
}

type seedList struct {
	Gossip []string `json:"gossip"`
}

func fetchSeeds(ctx context.Context, c *client.Client) ([]string, error) {
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
func (n *Node) serveSeeds(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(seedList{Gossip: liveGossipAddrs(n.mesh)})
}

func liveGossipAddrs(m *mesh.Mesh) []string {
	var addrs []string
	for _, mem := range m.Members() {
		if mem.State == "alive" || mem.State == "suspect" {
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

// newServerProxy sends a robot-only node's API traffic to a live server,
// so every member answers the same API.
func newServerProxy(m *mesh.Mesh, log *slog.Logger) http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			target := pickServer(m)
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = target
			r.Out.Host = target
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			log.Warn("proxy to server failed", "err", err)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
				"code": "no_server", "message": "this robot-only node reaches no live server: " + err.Error(),
			}})
		},
	}
}

func pickServer(m *mesh.Mesh) string {
	for _, mem := range m.Members() {
		if mem.State == "alive" && slices.Contains(mem.Meta.Roles, "server") && mem.Meta.HTTPAddr != "" {
			return mem.Meta.HTTPAddr
		}
	}
	return "no-live-server.invalid"
}
