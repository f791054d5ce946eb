package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/casare/casare/mesh"
)

// Gossip key rotation, as Consul's keyring does it: install the new key
// on every member (each then accepts both), make it the key every member
// encrypts with, then remove the old one. At every step each pair of
// members shares a key, so nobody drops out of gossip. Any member
// coordinates, over the internal endpoints; the CLI asks its local node.

// GossipKeyOp is one step of a rotation applied to one member.
type GossipKeyOp struct {
	Op  string `json:"op"` // install, use or remove
	Key string `json:"key"`
}

// RotateResult says which members took the new key.
type RotateResult struct {
	Members []string `json:"members"`
	// Skipped are members that were not alive; they keep the old key and
	// must rejoin with a new join (or be given the key by hand).
	Skipped []string `json:"skipped,omitempty"`
}

// rotateStepTimeout bounds one member's step; a step is a keyring change and
// a file write.
const rotateStepTimeout = 10 * time.Second

func (n clusterLink) serveGossipKey(w http.ResponseWriter, r *http.Request) {
	if _, ok := requireNodePeer(w, r, true); !ok {
		return
	}
	var op GossipKeyOp
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&op); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "gossip key step: %v", err)
		return
	}
	if err := n.applyKeyOp(op); err != nil {
		writeError(w, http.StatusBadRequest, "invalid", "%v", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// applyKeyOp changes this member's keyring and persists it, so that a
// restart comes back with the keys the cluster uses.
func (n clusterLink) applyKeyOp(op GossipKeyOp) error {
	key, err := mesh.DecodeGossipKey(op.Key)
	if err != nil {
		return err
	}
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	switch op.Op {
	case "install":
		err = n.mesh.InstallKey(key)
	case "use":
		err = n.mesh.UseKey(key)
	case "remove":
		err = n.mesh.RemoveKey(key)
	default:
		return fmt.Errorf("gossip key step %q: want install, use or remove", op.Op)
	}
	if err != nil {
		return fmt.Errorf("gossip key %s: %w", op.Op, err)
	}
	keys, err := n.mesh.Keys()
	if err != nil {
		return err
	}
	n.log.Info("gossip keyring changed", "step", op.Op, "keys", len(keys))
	return saveGossipKeys(n.cfg.DataDir, keys)
}

func (n clusterLink) serveGossipKeyRotate(w http.ResponseWriter, r *http.Request) {
	p, ok := requireNodePeer(w, r, false)
	if !ok {
		return
	}
	if !p.Server && p.Name != n.cfg.Name {
		writeError(w, http.StatusForbidden, "peer_refused", "node %q may not rotate the gossip key", p.Name)
		return
	}
	res, err := n.RotateGossipKey(r.Context())
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, "unavailable", "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// RotateGossipKey installs a new gossip key on every live member,
// switches every member to it and removes the old keys. A failure before
// the switch leaves every member on the old key; after it, members keep
// the old key installed beside the new one, which still works.
func (n *Node) RotateGossipKey(ctx context.Context) (RotateResult, error) {
	n.rotateMu.Lock()
	defer n.rotateMu.Unlock()
	newKey, err := mesh.NewGossipKey()
	if err != nil {
		return RotateResult{}, err
	}
	old, err := n.mesh.Keys()
	if err != nil {
		return RotateResult{}, err
	}
	var res RotateResult
	var targets []string
	for _, m := range n.mesh.Members() {
		if m.State != mesh.StateAlive || m.Meta.RaftAddr == "" {
			if m.State != mesh.StateLeft {
				res.Skipped = append(res.Skipped, m.Name)
			}
			continue
		}
		res.Members = append(res.Members, m.Name)
		targets = append(targets, m.Meta.RaftAddr)
	}
	enc := mesh.EncodeGossipKey(newKey)
	for _, step := range []string{"install", "use"} {
		if err := n.keyStep(ctx, targets, GossipKeyOp{Op: step, Key: enc}); err != nil {
			return res, fmt.Errorf("rotate gossip key, step %s: %w", step, err)
		}
	}
	var errs []error
	for _, k := range old {
		errs = append(errs, n.keyStep(ctx, targets, GossipKeyOp{Op: "remove", Key: mesh.EncodeGossipKey(k)}))
	}
	if err := errors.Join(errs...); err != nil {
		return res, fmt.Errorf("rotate gossip key: the new key is in use everywhere, but an old key stays installed: %w", err)
	}
	n.log.Info("gossip key rotated", "members", len(res.Members), "skipped", res.Skipped)
	return res, nil
}

func (n *Node) keyStep(ctx context.Context, targets []string, op GossipKeyOp) error {
	var errs []error
	for _, addr := range targets {
		stepCtx, cancel := context.WithTimeout(ctx, rotateStepTimeout)
		err := n.clusterAPI(addr).PostJSON(stepCtx, "/internal/v1/gossip-key", op, nil)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("member at %s: %w", addr, err))
		}
	}
	return errors.Join(errs...)
}
