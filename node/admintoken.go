package node

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/casare/casare/api"
	"github.com/casare/casare/consensus"
	"github.com/casare/casare/internal/retry"
)

// AdminTokenFile is the file, inside the data dir of the node that
// bootstrapped a cluster, holding the cluster's first admin API token:
// the token alone, mode 0600. The CLI on the same machine reads it.
const AdminTokenFile = "admin.token"

// adminTokenTimeout bounds storing the admin token at first start: the
// new one-server cluster elects itself within a second or two.
const adminTokenTimeout = 30 * time.Second

// ensureAdminToken gives a new cluster its admin token. On the first
// start of a bootstrapping server it makes one, writes it to the data
// dir before storing its hash (so a crash in between leaves the file,
// and the next start stores it), and prints it once. On later starts it
// stores the file's token again if the cluster lacks it; the write is
// idempotent by the token's id, so it costs one no-op entry. The node
// stays starting until the token is stored: when the file was written
// but the token never stored (a crash or a failed first start in
// between), or the cluster's state is gone, a CLI that reads the file
// once the node is ready must find the token valid.
func (n httpApp) ensureAdminToken(ctx, runCtx context.Context) error {
	if n.store == nil || n.cfg.Join != "" {
		n.starting.Store(false)
		return nil
	}
	path := filepath.Join(n.cfg.DataDir, AdminTokenFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		cmd, perr := adminTokenCmd(strings.TrimSpace(string(data)))
		if perr != nil {
			return fmt.Errorf("%s: %w", path, perr)
		}
		n.adminTokenID.Store(&cmd.ID)
		n.wg.Go(func() {
			if n.restoreAdminToken(runCtx, cmd) {
				n.starting.Store(false)
			}
		})
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read admin token: %w", err)
	case n.store.HadState():
		n.log.Warn("no admin token file on a restarted server; use another admin token", "path", path)
		n.starting.Store(false)
		return nil
	}
	token, cmd, err := newAdminToken()
	if err != nil {
		return err
	}
	if err := writeSecretFile(path, token); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, adminTokenTimeout)
	defer cancel()
	if _, err := n.store.CreateAPIToken(ctx, cmd); err != nil {
		return fmt.Errorf("store the admin token: %w", err)
	}
	n.starting.Store(false)
	n.log.Info("new cluster: wrote the admin API token", "path", path)
	n.printAdminToken(token, path)
	return nil
}

// restoreAdminToken stores the file's token, retrying until the cluster
// has a leader or the node stops; it reports whether the token is stored.
func (n httpApp) restoreAdminToken(ctx context.Context, cmd consensus.CreateAPITokenCmd) bool {
	// A restarted cluster may take a while to regain its quorum; wait
	// up to a few seconds between tries so the log stays quiet.
	policy := retry.Policy{First: 500 * time.Millisecond, Max: 5 * time.Second, OnRetry: func(_ int, err error, _ time.Duration) {
		n.log.Warn("cannot store the admin token yet; retrying", "err", err)
	}}
	_, err := retry.Do(ctx, policy, func() (consensus.APIToken, error) { return n.store.CreateAPIToken(ctx, cmd) })
	if err != nil && ctx.Err() == nil {
		n.log.Error("admin token not stored", "err", err)
	}
	return err == nil
}

func newAdminToken() (string, consensus.CreateAPITokenCmd, error) {
	secret, err := api.NewAPISecret()
	if err != nil {
		return "", consensus.CreateAPITokenCmd{}, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return "", consensus.CreateAPITokenCmd{}, fmt.Errorf("admin token id: %w", err)
	}
	token := consensus.FormatAPIToken(consensus.KindToken, id.String(), secret)
	cmd, err := adminTokenCmd(token)
	return token, cmd, err
}

func adminTokenCmd(token string) (consensus.CreateAPITokenCmd, error) {
	id, secret, err := consensus.ParseAPIToken(consensus.KindToken, token)
	if err != nil {
		return consensus.CreateAPITokenCmd{}, err
	}
	return consensus.CreateAPITokenCmd{
		ID: id, Name: "admin", Role: consensus.RoleAdmin, Kind: consensus.KindToken, Hash: consensus.HashToken(secret),
	}, nil
}

// writeSecretFile writes a secret readable by its owner only. It never
// replaces an existing file, and a partly written file is removed.
func writeSecretFile(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.WriteString(secret + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// printAdminToken shows the admin token once, where the operator sees
// the rest of a new cluster's bootstrap note.
func (n httpApp) printAdminToken(token, path string) {
	if n.cfg.BootstrapOut == nil {
		return
	}
	fmt.Fprintf(n.cfg.BootstrapOut, `
Casare started a new cluster. Its admin API token, shown only this once:

    %s

It is also in %s (mode 0600). The casare CLI in this directory finds it
there; elsewhere give it with --token, CASARE_TOKEN or --token-file.
Make tokens with less power with: casare tokens create --role viewer --name NAME

`, token, path)
}

// stillStarting reports whether the node is starting (see
// ensureAdminToken). A restarted server whose replica holds its data
// dir's admin token already has started: the token's write only repeats
// what the cluster has, and readiness need not wait for it.
func (n httpApp) stillStarting() bool {
	if !n.starting.Load() {
		return false
	}
	id := n.adminTokenID.Load()
	return id == nil || !n.store.HasAPIToken(*id)
}
